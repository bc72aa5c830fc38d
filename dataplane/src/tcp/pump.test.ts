import { describe, it, after } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { createHash, randomBytes } from 'node:crypto';
import { fixedResolver } from '../transport/resolver.js';
import { startTestProxy, listenOn, closeServer, type TestProxy } from '../proxy/testing.js';
import { MAX_BUFFER, MIN_BUFFER, Pump } from './pump.js';
import { canReadIntoBuffer } from './read-buffer.js';

/** A destination that takes every write at once (writableLength stays 0) and records the chunks. */
function fakeDst(): { socket: net.Socket; written: Buffer[] } {
  const written: Buffer[] = [];
  const socket = { destroyed: false, writableEnded: false, writableLength: 0, write: (c: Buffer) => { written.push(Buffer.from(c)); return true; } };
  return { socket: socket as unknown as net.Socket, written };
}

describe('Pump buffer sizing', () => {
  it('grows ×4 after reads that fill the buffer, up to MAX_BUFFER, and shrinks after a run of small reads', () => {
    const { socket, written } = fakeDst();
    const pump = new Pump(socket);
    let buf = pump.next();
    assert.equal(buf.length, MIN_BUFFER);
    const sizes: number[] = [];
    for (let i = 0; i < 4; i++) {
      buf.fill(i);
      assert.equal(pump.onRead(buf.length, buf), true, 'a write that completed keeps reading');
      buf = pump.next();
      sizes.push(buf.length);
    }
    assert.deepEqual(sizes, [MIN_BUFFER * 4, MAX_BUFFER, MAX_BUFFER, MAX_BUFFER]);
    assert.equal(written.length, 4);
    assert.ok(written[3]?.every((b) => b === 3));
    for (let i = 0; i < 15; i++) {
      pump.onRead(100, buf);
      assert.equal(pump.next().length, MAX_BUFFER, `still ${MAX_BUFFER} after ${i + 1} small reads`);
    }
    pump.onRead(100, buf);
    assert.equal(pump.next().length, MAX_BUFFER / 4);
  });

  it('stops reading while a write is pending and does not hand out a buffer that write still uses', () => {
    const written: Buffer[] = [];
    const dst = { destroyed: false, writableEnded: false, writableLength: 0, write: (c: Buffer) => { written.push(c); dst.writableLength = c.length; return false; } };
    const pump = new Pump(dst as unknown as net.Socket);
    const buf = pump.next();
    assert.equal(pump.onRead(10, buf), false, 'reading stops (readStop) while the write holds the buffer');
    assert.equal(written[0]?.buffer, buf.buffer, 'the write got the bytes without a copy');
  });
});

describe('Pump buffer recycling', () => {
  it('a released base-size buffer serves the next connection, once; grown buffers are not kept', () => {
    const first = new Pump(fakeDst().socket);
    const buf = first.next();
    first.release();
    first.release();
    const second = new Pump(fakeDst().socket);
    const third = new Pump(fakeDst().socket);
    assert.equal(second.next(), buf, 'the next pump reuses the released buffer');
    assert.notEqual(third.next(), buf, 'released twice, handed out once');
    const grown = new Pump(fakeDst().socket);
    let b = grown.next();
    grown.onRead(b.length, b);
    b = grown.next();
    assert.equal(b.length, MIN_BUFFER * 4);
    grown.release();
    assert.notEqual(new Pump(fakeDst().socket).next().length, MIN_BUFFER * 4);
  });
});

describe('L4 forwarding through reused read buffers', () => {
  const servers: net.Server[] = [];
  const proxies: TestProxy[] = [];
  after(async () => {
    for (const p of proxies) await p.close();
    for (const s of servers) await closeServer(s);
  });

  it('reads accepted sockets into its own buffer on this Node (else every read allocates: a slow fallback)', () => {
    assert.equal(canReadIntoBuffer, true);
  });

  it('both directions at once, with readers that keep pausing: every byte arrives in order (sha256)', async () => {
    const size = 24 * 1024 * 1024;
    const payload = (seed: number): Buffer => { const b = randomBytes(size); b.writeUInt32BE(seed, 0); return b; };
    const up = payload(1);
    const down = payload(2);
    const digest = (b: Buffer): string => createHash('sha256').update(b).digest('hex');
    // A reader that pauses for a few ms every ~1 MiB, so writes toward it back up and the pump's buffer is held.
    const slowRead = (s: net.Socket): Promise<string> => new Promise((resolve, reject) => {
      const hash = createHash('sha256');
      let sincePause = 0;
      s.on('data', (c: Buffer) => {
        hash.update(c);
        sincePause += c.length;
        if (sincePause > 1024 * 1024) {
          sincePause = 0;
          s.pause();
          setTimeout(() => s.resume(), 3);
        }
      });
      s.once('end', () => resolve(hash.digest('hex')));
      s.once('error', reject);
    });
    const write = (s: net.Socket, data: Buffer): void => {
      let off = 0;
      const pump = (): void => {
        while (off < data.length) {
          const chunk = data.subarray(off, off + 300_000);
          off += chunk.length;
          if (!s.write(chunk)) return void s.once('drain', pump);
        }
        s.end();
      };
      pump();
    };
    let serverGot: Promise<string> | undefined;
    const server = net.createServer({ allowHalfOpen: true }, (s) => {
      serverGot = slowRead(s);
      write(s, down);
    });
    servers.push(server);
    const port = await listenOn(server);
    const proxy = await startTestProxy(fixedResolver({ address: '127.0.0.1', port, family: 4 }), ['--opaque-ports', String(port)]);
    proxies.push(proxy);
    const client = net.connect({ port: proxy.proxy.addresses.inbound.port, host: '127.0.0.1', allowHalfOpen: true });
    const clientGot = slowRead(client);
    client.once('connect', () => write(client, up));
    assert.equal(await clientGot, digest(down), 'upstream → client');
    assert.equal(await serverGot, digest(up), 'client → upstream');
  });
});
