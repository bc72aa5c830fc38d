// The two bounds around the HTTP path, through a real proxy on loopback: the pending-request cap per
// upstream (overflow answered 503 at once, never queued) and the listener connection limit (reset at accept).
import assert from 'node:assert/strict';
import http from 'node:http';
import net from 'node:net';
import { after, describe, it } from 'node:test';
import { fixedResolver } from '../transport/resolver.js';
import { closeServer, listenOn, startTestProxy, waitFor, type TestProxy } from '../proxy/testing.js';

interface Answer { status: number; error?: string | undefined; body: string }

function get(port: number, path: string): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const r = http.get({ port, host: '127.0.0.1', path, agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, error: res.headers['x-skein-error'] as string | undefined, body }));
    });
    r.on('error', reject);
  });
}

/** One keep-alive client connection that got an answer: the proxy holds it open. */
function openAnswered(port: number): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ port, host: '127.0.0.1' });
    socket.on('error', reject);
    socket.once('connect', () => socket.write('GET / HTTP/1.1\r\nHost: x\r\n\r\n'));
    socket.once('data', (chunk: Buffer) => {
      assert.match(chunk.toString('latin1'), /^HTTP\/1\.1 200 /);
      resolve(socket);
    });
  });
}

/** Connects and reports how the proxy ended the connection: 'reset' (RST) or what it answered. */
function tryConnect(port: number): Promise<string> {
  return new Promise((resolve) => {
    const socket = net.connect({ port, host: '127.0.0.1' });
    let data = '';
    socket.once('connect', () => socket.write('GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n'));
    socket.on('data', (c: Buffer) => (data += c.toString('latin1')));
    socket.on('error', (err: NodeJS.ErrnoException) => resolve(err.code === 'ECONNRESET' ? 'reset' : `error ${err.code ?? err.message}`));
    socket.on('close', () => resolve(data.split('\r\n')[0] ?? ''));
  });
}

async function counter(tp: TestProxy, name: string): Promise<number> {
  const metric = (await tp.proxy.metrics.registry.getMetricsAsJSON()).find((m) => m.name === name);
  return (metric?.values ?? []).reduce((n, v) => n + v.value, 0);
}

describe('resilience limits', () => {
  const servers: net.Server[] = [];
  const proxies: TestProxy[] = [];
  after(async () => {
    for (const p of proxies) await p.close();
    for (const s of servers) await closeServer(s);
  });

  async function proxyTo(server: net.Server, flags: string[]): Promise<{ port: number; tp: TestProxy }> {
    servers.push(server);
    const up = await listenOn(server);
    const tp = await startTestProxy(fixedResolver({ address: '127.0.0.1', port: up, family: 4 }), flags);
    proxies.push(tp);
    return { port: tp.proxy.addresses.outbound.port, tp };
  }

  it('answers 503 upstream_overflow at once when an upstream has its sockets and pending requests taken, and recovers', async () => {
    const held: http.ServerResponse[] = [];
    const server = http.createServer((req, res) => {
      if (req.url === '/hold') held.push(res);
      else res.end('ok');
    });
    // One socket + one pending request: the third concurrent request overflows.
    const { port, tp } = await proxyTo(server, ['--max-upstream-sockets', '1', '--max-pending-requests', '1']);
    const first = get(port, '/hold');
    const second = get(port, '/hold');
    await waitFor(() => held.length === 1, 'the first request at the upstream');
    const third = await get(port, '/now');
    assert.equal(third.status, 503);
    assert.equal(third.error, 'upstream_overflow');
    assert.match(third.body, /--max-pending-requests/);
    assert.equal(held.length, 1, 'the overflowing request never reached the upstream; the second still waits for the socket');
    assert.equal(await counter(tp, 'skein_dp_upstream_overflow_total'), 1);
    (held.shift() as http.ServerResponse).end('one');
    await waitFor(() => held.length === 1, 'the queued request at the upstream');
    (held.shift() as http.ServerResponse).end('two');
    assert.deepEqual([(await first).status, (await second).status], [200, 200]);
    // Every slot was given back: requests pass again, one after another and more than the limit in total.
    for (let i = 0; i < 4; i++) assert.equal((await get(port, '/now')).status, 200);
  });

  it('a client that leaves while its request waits gives its slot back', async () => {
    const held: http.ServerResponse[] = [];
    const server = http.createServer((req, res) => {
      if (req.url === '/hold') held.push(res);
      else res.end('ok');
    });
    const { port, tp } = await proxyTo(server, ['--max-upstream-sockets', '1', '--max-pending-requests', '1']);
    const first = get(port, '/hold');
    await waitFor(() => held.length === 1, 'the first request at the upstream');
    // The second waits in the pool's queue; its client goes away.
    const gone = net.connect({ port, host: '127.0.0.1' });
    await new Promise<void>((resolve) => gone.once('connect', () => resolve()));
    gone.write('GET /never HTTP/1.1\r\nHost: x\r\n\r\n');
    // Detected as HTTP means dispatched: its bytes reach the HTTP server on the next tick, before any other I/O.
    while (await counter(tp, 'skein_dp_protocol_detections_total') < 2) await new Promise((resolve) => setTimeout(resolve, 10));
    const overflow = await get(port, '/now');
    assert.equal(overflow.error, 'upstream_overflow', 'both slots taken while the second waits');
    gone.destroy();
    (held.shift() as http.ServerResponse).end('one');
    assert.equal((await first).status, 200);
    await waitFor(() => held.length === 0, 'nothing more held');
    assert.equal((await get(port, '/now')).status, 200, 'the abandoned request released its slot');
    assert.equal((await get(port, '/now')).status, 200);
  });

  it('resets connections above --max-connections at accept, counts them, and accepts again once one closes', async () => {
    const server = http.createServer((_req, res) => res.end('ok'));
    const { port, tp } = await proxyTo(server, ['--max-connections', '2']);
    const a = await openAnswered(port);
    const b = await openAnswered(port);
    assert.equal(await tryConnect(port), 'reset');
    assert.equal(await tryConnect(port), 'reset');
    assert.equal(await counter(tp, 'skein_dp_shed_connections_total'), 2);
    a.destroy();
    await waitFor(() => tp.proxy.activeConnections() === 1, 'the proxy saw the close');
    assert.equal(await tryConnect(port), 'HTTP/1.1 200 OK', 'below the limit again');
    b.destroy();
  });
});
