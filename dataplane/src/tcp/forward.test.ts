import { describe, it, after } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { createHash, randomBytes } from 'node:crypto';
import { fixedResolver } from '../transport/resolver.js';
import { startTestProxy, listenOn, closeServer, recordingServer, waitFor, type TestProxy } from '../proxy/testing.js';

/** Connects through the proxy's inbound listener (tests inject the target with a fixed resolver). */
function connect(port: number): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ port, host: '127.0.0.1', allowHalfOpen: true }, () => resolve(socket));
    socket.once('error', reject);
  });
}

function readAll(socket: net.Socket): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    socket.on('data', (c: Buffer) => chunks.push(c));
    socket.once('end', () => resolve(Buffer.concat(chunks)));
    socket.once('error', reject);
  });
}

describe('L4 forwarding through the inbound listener', () => {
  const servers: net.Server[] = [];
  const proxies: TestProxy[] = [];
  after(async () => {
    for (const p of proxies) await p.close();
    for (const s of servers) await closeServer(s);
  });

  async function proxyTo(handler: (s: net.Socket) => void, flags: string[] = []): Promise<{ port: number; upstreamPort: number; received: Buffer[]; proxy: TestProxy }> {
    const { server, received } = recordingServer(handler);
    servers.push(server);
    const upstreamPort = await listenOn(server);
    const proxy = await startTestProxy(fixedResolver({ address: '127.0.0.1', port: upstreamPort, family: 4 }), flags);
    proxies.push(proxy);
    return { port: proxy.proxy.addresses.inbound.port, upstreamPort, received, proxy };
  }

  it('half-close: the client ends its side and still reads the whole reply (N1)', async () => {
    // The server answers only after the client's FIN, then closes.
    const { port } = await proxyTo((s) => {
      const chunks: Buffer[] = [];
      s.on('data', (c: Buffer) => chunks.push(c));
      s.on('end', () => s.end(`got ${Buffer.concat(chunks).length} bytes: ${Buffer.concat(chunks).toString()}`));
    });
    const client = await connect(port);
    const reply = readAll(client);
    client.end('opaque-payload');
    assert.equal((await reply).toString(), 'got 14 bytes: opaque-payload');
  });

  it('an upstream RST reaches the client as an RST, not a FIN (N2)', async () => {
    const { port } = await proxyTo((s) => s.once('data', () => s.resetAndDestroy()));
    const client = await connect(port);
    const outcome = await new Promise<string>((resolve) => {
      client.on('error', (err: NodeJS.ErrnoException) => resolve(err.code ?? 'error'));
      client.on('end', () => resolve('FIN'));
      client.write('x-please-reset');
    });
    assert.equal(outcome, 'ECONNRESET');
  });

  it('a client RST reaches the upstream as an RST', async () => {
    let upstreamOutcome: Promise<string> | undefined;
    const { port } = await proxyTo((s) => {
      upstreamOutcome = new Promise((resolve) => {
        s.on('error', (err: NodeJS.ErrnoException) => resolve(err.code ?? 'error'));
        s.on('end', () => resolve('FIN'));
      });
    });
    const client = await connect(port);
    client.write('hello');
    await waitFor(() => upstreamOutcome !== undefined, 'upstream connection');
    client.resetAndDestroy();
    assert.equal(await upstreamOutcome, 'ECONNRESET');
  });

  it('refused upstream: the client is reset', async () => {
    const closed = net.createServer();
    const closedPort = await listenOn(closed);
    await closeServer(closed);
    const proxy = await startTestProxy(fixedResolver({ address: '127.0.0.1', port: closedPort, family: 4 }), ['--opaque-ports', String(closedPort)]);
    proxies.push(proxy);
    const client = await connect(proxy.proxy.addresses.inbound.port);
    const outcome = await new Promise<string>((resolve) => {
      client.on('error', (err: NodeJS.ErrnoException) => resolve(err.code ?? 'error'));
      client.on('end', () => resolve('FIN'));
    });
    assert.equal(outcome, 'ECONNRESET');
  });

  it('backpressure: a slow reader pauses the upstream and the proxy buffers a bounded amount (N4)', async () => {
    const total = 32 * 1024 * 1024;
    let written = 0;
    let upstreamSocket: net.Socket | undefined;
    const { port, proxy } = await proxyTo((s) => {
      upstreamSocket = s;
      const chunk = Buffer.alloc(64 * 1024, 7);
      const pump = (): void => {
        while (written < total) {
          written += chunk.length;
          if (!s.write(chunk)) return void s.once('drain', pump);
        }
        s.end();
      };
      pump();
    });
    const client = await connect(port);
    client.pause();
    await waitFor(() => upstreamSocket !== undefined, 'upstream');
    // Wait until the upstream is blocked (its writes stopped progressing), then look at the proxy's buffers.
    let last = -1;
    for (let stable = 0; stable < 5;) {
      await new Promise((r) => setTimeout(r, 50));
      if (written === last) stable++; else { stable = 0; last = written; }
    }
    assert.ok(written < total, 'the upstream was paused before sending everything');
    assert.equal(proxy.proxy.activeConnections(), 1);
    // What the proxy holds for the slow client: its socket's writableLength (pipe stops reading the
    // upstream once it passes the highWaterMark), sampled while the upstream keeps trying to send.
    let maxBuffered = 0;
    for (let i = 0; i < 20; i++) {
      maxBuffered = Math.max(maxBuffered, proxy.proxy.bufferedBytes());
      await new Promise((r) => setTimeout(r, 10));
    }
    assert.ok(maxBuffered > 0, 'the proxy holds some bytes for the paused client');
    assert.ok(maxBuffered <= 256 * 1024, `proxy buffered ${maxBuffered} bytes for the slow client`);
    // Now read everything: all bytes arrive.
    const got = await new Promise<number>((resolve) => {
      let n = 0;
      client.on('data', (c: Buffer) => { n += c.length; });
      client.on('end', () => resolve(n));
      client.resume();
    });
    assert.equal(got, total);
  });

  it('100 MB through the proxy arrive intact (sha256)', async () => {
    const { port } = await proxyTo((s) => {
      const hash = createHash('sha256');
      s.on('data', (c: Buffer) => hash.update(c));
      s.on('end', () => s.end(hash.digest('hex')));
    });
    const client = await connect(port);
    const reply = readAll(client);
    const expected = createHash('sha256');
    const block = randomBytes(1024 * 1024);
    for (let i = 0; i < 100; i++) {
      const chunk = Buffer.from(block);
      chunk.writeUInt32BE(i, 0);
      expected.update(chunk);
      if (!client.write(chunk)) await new Promise((r) => client.once('drain', r));
    }
    client.end();
    assert.equal((await reply).toString(), expected.digest('hex'));
  });

  it('server-speaks-first: immediate on an opaque port, after the detection timeout elsewhere (N3)', async () => {
    const banner = (s: net.Socket): void => { s.write('220 banner\r\n'); };
    const declared = await proxyTo(banner, ['--detect-timeout', '30s']);
    const undeclared = await proxyTo(banner, ['--detect-timeout', '200ms']);
    // Declared opaque: with a 30 s detection timeout the banner still arrives (the guard below is 10 s).
    const declaredProxy = await startTestProxy(fixedResolver({ address: '127.0.0.1', port: declared.upstreamPort, family: 4 }),
      ['--detect-timeout', '30s', '--opaque-ports', String(declared.upstreamPort)]);
    proxies.push(declaredProxy);
    for (const port of [declaredProxy.proxy.addresses.inbound.port, undeclared.port]) {
      const client = await connect(port);
      const first = await new Promise<string>((resolve, reject) => {
        client.once('data', (c: Buffer) => resolve(c.toString()));
        setTimeout(() => reject(new Error('no banner within 10 s')), 10_000).unref();
      });
      assert.equal(first, '220 banner\r\n');
      client.destroy();
    }
    const detections = await undeclared.proxy.proxy.metrics.detections.get();
    assert.ok(detections.values.some((v) => v.labels.reason === 'timeout' && v.value >= 1));
    const declaredDetections = await declaredProxy.proxy.metrics.detections.get();
    assert.ok(declaredDetections.values.some((v) => v.labels.reason === 'opaque_port' && v.value >= 1));
  });

  it('refuses a connection whose original destination is the proxy itself (no loop)', async () => {
    const proxy = await startTestProxy(() => ({ address: '127.0.0.1', port: proxy_port(), family: 4 }));
    proxies.push(proxy);
    function proxy_port(): number { return proxy.proxy.addresses.inbound.port; }
    const outcome = await new Promise<string>((resolve) => {
      const client = net.connect({ port: proxy.proxy.addresses.inbound.port, host: '127.0.0.1' });
      client.on('error', (err: NodeJS.ErrnoException) => resolve(err.code ?? 'error'));
      client.on('end', () => resolve('FIN'));
    });
    assert.equal(outcome, 'ECONNRESET');
    const refused = await proxy.proxy.metrics.refused.get();
    assert.ok(refused.values.some((v) => v.labels.reason === 'proxy_loop' && v.value === 1));
  });

  it('idle timeout closes a silent connection; one summary log line per connection', async () => {
    const { port, proxy } = await proxyTo(() => undefined, ['--idle-timeout', '300ms', '--detect-timeout', '50ms']);
    const client = await connect(port);
    client.write('hello-idle');
    const ended = await new Promise<string>((resolve) => {
      client.on('end', () => resolve('closed'));
      client.on('error', (e: NodeJS.ErrnoException) => resolve(e.code ?? 'error'));
      client.resume();
    });
    assert.equal(ended, 'closed');
    await waitFor(() => proxy.logs.some((l) => l['msg'] === 'connection closed'), 'the summary line');
    const line = proxy.logs.find((l) => l['msg'] === 'connection closed') as Record<string, unknown>;
    assert.equal(line['outcome'], 'idle_timeout');
    assert.equal(line['proto'], 'opaque');
    assert.equal(line['bytesIn'], 10);
    assert.equal(line['direction'], 'inbound');
    assert.match(String(line['src']), /^127\.0\.0\.1:\d+$/);
    assert.match(String(line['dst']), /^127\.0\.0\.1:\d+$/);
    assert.equal(typeof line['conn'], 'number');
  });
});
