import { describe, it, after } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import tls from 'node:tls';
import http2 from 'node:http2';
import { sniff, H2_PREFACE } from './sniff.js';
import { detect } from './index.js';
import { listenOn, closeServer } from '../proxy/testing.js';

/** Captures the first bytes a real client sends to a plain TCP server. */
async function captureFirstBytes(dial: (port: number) => void): Promise<Buffer> {
  const server = net.createServer();
  const port = await listenOn(server);
  try {
    return await new Promise<Buffer>((resolve) => {
      server.once('connection', (socket) => {
        socket.once('data', (chunk: Buffer) => { resolve(chunk); socket.destroy(); });
      });
      dial(port);
    });
  } finally {
    await closeServer(server);
  }
}

describe('sniff (pure classification)', () => {
  it('HTTP/1.x request lines, including ones Node will reject as malformed', () => {
    assert.equal(sniff(Buffer.from('GET / HTTP/1.1\r\nHost: a\r\n\r\n')), 'http1');
    assert.equal(sniff(Buffer.from('OPTIONS * HTTP/1.0\r\n')), 'http1');
    assert.equal(sniff(Buffer.from('M-SEARCH /x HTTP/1.1\n')), 'http1');
    assert.equal(sniff(Buffer.from('GET / HTTP/1.1\rHost: a')), 'http1', 'bare CR goes to the strict parser (400), not through');
  });

  it('needs more bytes for a prefix, decides as soon as it cannot be HTTP', () => {
    for (const partial of ['G', 'GET', 'GET ', 'GET /index', 'GET / HTTP/1', 'GET / HTTP/1.1', 'PRI * HTTP/2.0\r\n', '\x16']) {
      assert.equal(sniff(Buffer.from(partial, 'latin1')), 'need_more', partial);
    }
    assert.equal(sniff(Buffer.from('SSH-2.0-OpenSSH_9.2\r\n')), 'opaque');
    assert.equal(sniff(Buffer.from('get-key foo\r\n')), 'opaque');
    assert.equal(sniff(Buffer.from('GET / HTTP/2.0\r\n')), 'opaque');
    assert.equal(sniff(Buffer.from([0, 0, 0, 12, 1, 2])), 'opaque');
  });

  it('HTTP/2 prior-knowledge preface', () => {
    assert.equal(sniff(H2_PREFACE), 'h2');
    assert.equal(sniff(Buffer.concat([H2_PREFACE, Buffer.from([0, 0, 0, 4, 0, 0, 0, 0, 0])])), 'h2');
  });

  it('a real TLS ClientHello (captured from node:tls) and a real h2 client', async () => {
    const hello = await captureFirstBytes((port) => {
      const c = tls.connect({ port, host: '127.0.0.1', servername: 'orders.shop', rejectUnauthorized: false });
      c.on('error', () => undefined);
    });
    assert.equal(hello[0], 0x16);
    assert.equal(sniff(hello), 'tls');
    const preface = await captureFirstBytes((port) => {
      const session = http2.connect(`http://127.0.0.1:${port}`);
      session.on('error', () => undefined);
    });
    assert.equal(sniff(preface.subarray(0, 24)), 'h2');
  });
});

describe('detect (on a socket)', () => {
  const servers: net.Server[] = [];
  after(async () => { for (const s of servers) await closeServer(s); });

  async function detectOn(send: (c: net.Socket) => void, timeoutMs = 300, opaque = false): Promise<{ protocol: string; reason: string; bytes: Buffer }> {
    const server = net.createServer({ allowHalfOpen: true });
    servers.push(server);
    const port = await listenOn(server);
    const result = new Promise<{ protocol: string; reason: string; bytes: Buffer }>((resolve) => {
      server.once('connection', async (socket) => {
        const d = await detect(socket, { timeoutMs, opaque });
        // Whatever was peeked must still be readable (or in leftover): nothing lost.
        const chunks: Buffer[] = [d.leftover];
        socket.on('data', (c: Buffer) => chunks.push(c));
        const done = (): void => resolve({ protocol: d.protocol, reason: d.reason, bytes: Buffer.concat(chunks) });
        if (socket.readableEnded) return done();
        socket.on('end', done);
        socket.resume();
      });
    });
    const client = net.connect({ port, host: '127.0.0.1', allowHalfOpen: true }, () => send(client));
    return result;
  }

  it('HTTP/1 split over two writes keeps every byte', async () => {
    const r = await detectOn((c) => { c.write('GET /a'); setTimeout(() => c.end(' HTTP/1.1\r\nHost: x\r\n\r\n'), 50); }, 10_000);
    assert.equal(r.protocol, 'http1');
    assert.equal(r.bytes.toString(), 'GET /a HTTP/1.1\r\nHost: x\r\n\r\n');
  });

  it('a silent client → opaque after the timeout', async () => {
    const r = await detectOn((c) => setTimeout(() => c.end('late'), 600), 100);
    assert.deepEqual([r.protocol, r.reason, r.bytes.toString()], ['opaque', 'timeout', 'late']);
  });

  it('a client that closes before deciding → opaque, bytes kept as leftover', async () => {
    const r = await detectOn((c) => c.end('GET'));
    assert.deepEqual([r.protocol, r.reason, r.bytes.toString()], ['opaque', 'client_closed', 'GET']);
  });

  it('an opaque port is not read at all', async () => {
    const r = await detectOn((c) => c.end('GET / HTTP/1.1\r\n\r\n'), 300, true);
    assert.deepEqual([r.protocol, r.reason], ['opaque', 'opaque_port']);
    assert.equal(r.bytes.toString(), 'GET / HTTP/1.1\r\n\r\n');
  });
});
