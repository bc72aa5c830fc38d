import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import net from 'node:net';
import { WebSocketServer, WebSocket } from 'ws';
import { fixedResolver } from '../transport/resolver.js';
import { startTestProxy, listenOn, closeServer, rawExchange, waitFor, type TestProxy } from '../proxy/testing.js';

interface Seen { method: string; url: string; headers: http.IncomingHttpHeaders; body: string; trailers: Record<string, string>; remotePort: number }

describe('HTTP/1.1 path through the outbound listener', () => {
  let upstream: http.Server;
  let upstreamPort: number;
  let tp: TestProxy;
  let proxyPort: number;
  const seen: Seen[] = [];
  let upstreamBytes = 0;

  before(async () => {
    upstream = http.createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => { body += c.toString(); });
      req.on('end', () => {
        seen.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, body, trailers: req.trailers as Record<string, string>, remotePort: req.socket.remotePort ?? 0 });
        if (req.url === '/trailers') {
          res.writeHead(200, { 'content-type': 'text/plain', trailer: 'x-checksum' });
          res.write('part1-');
          res.write('part2');
          res.addTrailers({ 'x-checksum': 'abc123' });
          res.end();
          return;
        }
        if (req.url === '/hop') {
          res.writeHead(200, { connection: 'x-secret', 'x-secret': 'leak', 'keep-alive': 'timeout=1', 'x-kept': 'yes' });
          res.end('hop');
          return;
        }
        if (req.url === '/hang') return; // never answers
        res.end(`echo ${req.method} ${req.url} ${body}`);
      });
    });
    upstream.on('checkContinue', (req, res) => {
      if (req.url === '/reject') { res.writeHead(417); res.end('no'); return; }
      res.writeContinue();
      upstream.emit('request', req, res);
    });
    upstream.on('connection', (s: net.Socket) => s.on('data', (c: Buffer) => { upstreamBytes += c.length; }));
    upstreamPort = await listenOn(upstream);
    tp = await startTestProxy(fixedResolver({ address: '127.0.0.1', port: upstreamPort, family: 4 }));
    proxyPort = tp.proxy.addresses.outbound.port;
  });
  after(async () => {
    await tp.close();
    await closeServer(upstream);
  });

  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  after(() => agent.destroy());

  function request(path: string, options: http.RequestOptions = {}, body?: string): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: string; trailers: NodeJS.Dict<string>; socketPort: number }> {
    return new Promise((resolve, reject) => {
      const req = http.request({ host: '127.0.0.1', port: proxyPort, path, agent, ...options }, (res) => {
        let data = '';
        res.on('data', (c: Buffer) => { data += c.toString(); });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: data, trailers: res.trailers, socketPort: req.socket?.localPort ?? 0 }));
      });
      req.on('error', reject);
      req.end(body);
    });
  }

  it('keeps the client connection and the upstream connection alive across requests', async () => {
    seen.length = 0;
    const a = await request('/a');
    const b = await request('/b', { method: 'POST' }, 'hello');
    assert.equal(a.body, 'echo GET /a ');
    assert.equal(b.body, 'echo POST /b hello');
    assert.equal(a.socketPort, b.socketPort, 'client reused its connection to the proxy');
    assert.equal(seen[0]?.remotePort, seen[1]?.remotePort, 'proxy reused its pooled upstream connection');
  });

  it('adds x-request-id when absent and keeps one the client sent', async () => {
    seen.length = 0;
    await request('/id');
    await request('/id', { headers: { 'x-request-id': 'client-chosen' } });
    assert.match(String(seen[0]?.headers['x-request-id']), /^[0-9a-f-]{36}$/);
    assert.equal(seen[1]?.headers['x-request-id'], 'client-chosen');
  });

  it('logs one line per request: method, authority, path without the query, status, bytes, duration', async () => {
    const res = await request('/logged/path?token=secret', { method: 'PUT', headers: { host: 'orders.shop:8080', 'x-request-id': 'log-me' } }, 'abc');
    const mine = (): Array<Record<string, unknown>> => tp.logs.filter((l) => l['msg'] === 'request' && l['requestId'] === 'log-me');
    await waitFor(() => mine().length > 0, 'the request log line');
    assert.equal(mine().length, 1);
    const line = mine()[0] as Record<string, unknown>;
    assert.equal(line['method'], 'PUT');
    assert.equal(line['authority'], 'orders.shop:8080');
    assert.equal(line['path'], '/logged/path');
    assert.equal(line['status'], 200);
    assert.equal(line['bytes'], Buffer.byteLength(res.body));
    assert.equal(typeof line['durationMs'], 'number');
    assert.ok(!JSON.stringify(line).includes('secret'), 'the query (may hold credentials) is not logged');
  });

  it('streams chunked bodies and forwards trailers both ways', async () => {
    seen.length = 0;
    const res = await new Promise<{ body: string; trailers: NodeJS.Dict<string> }>((resolve, reject) => {
      const req = http.request({ host: '127.0.0.1', port: proxyPort, path: '/trailers', method: 'POST', agent, headers: { trailer: 'x-req-sum' } }, (r) => {
        let data = '';
        r.on('data', (c: Buffer) => { data += c.toString(); });
        r.on('end', () => resolve({ body: data, trailers: r.trailers }));
      });
      req.on('error', reject);
      req.write('chunk-1 ');
      req.write('chunk-2');
      req.addTrailers({ 'x-req-sum': 'r42' });
      req.end();
    });
    assert.equal(res.body, 'part1-part2');
    assert.equal(res.trailers['x-checksum'], 'abc123');
    assert.equal(seen[0]?.body, 'chunk-1 chunk-2');
    assert.equal(seen[0]?.headers['transfer-encoding'], 'chunked');
    assert.equal(seen[0]?.trailers['x-req-sum'], 'r42');
  });

  it('strips hop-by-hop headers in both directions', async () => {
    seen.length = 0;
    const res = await request('/hop', { headers: { connection: 'keep-alive, x-drop-me', 'x-drop-me': '1', 'proxy-connection': 'x', 'x-stay': '1' } });
    assert.equal(seen[0]?.headers['x-drop-me'], undefined);
    assert.equal(seen[0]?.headers['proxy-connection'], undefined);
    assert.equal(seen[0]?.headers['x-stay'], '1');
    assert.equal(res.headers['x-secret'], undefined);
    assert.equal(res.headers['x-kept'], 'yes');
  });

  it('forwards the exact request target, double slashes and query included', async () => {
    seen.length = 0;
    await request('//a//b/../c?next=http://x//y');
    await request('//p//q?u=http://z//w', { method: 'PUT', headers: { expect: '100-continue' } }, 'body');
    assert.equal(seen[0]?.url, '//a//b/../c?next=http://x//y');
    assert.equal(seen[1]?.url, '//p//q?u=http://z//w');
  });

  it('relays 100-continue from the upstream, and a 417 without forwarding the body', async () => {
    seen.length = 0;
    const ok = await request('/continue', { method: 'PUT', headers: { expect: '100-continue' } }, 'payload');
    assert.equal(ok.status, 200);
    assert.equal(ok.body, 'echo PUT /continue payload');
    assert.equal(seen[0]?.headers.expect, '100-continue', 'the expectation travelled upstream');

    const before = seen.length;
    const rejected = await new Promise<number>((resolve, reject) => {
      const req = http.request({ host: '127.0.0.1', port: proxyPort, path: '/reject', method: 'PUT', agent: false, headers: { expect: '100-continue', 'content-length': 4 } }, (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      });
      req.on('continue', () => req.end('body'));
      req.on('error', reject);
    });
    assert.equal(rejected, 417);
    assert.equal(seen.length, before, 'the upstream handled no request body');
  });

  it('proxies a WebSocket upgrade and echoes messages', async () => {
    const wss = new WebSocketServer({ port: 0, host: '127.0.0.1' });
    await new Promise((r) => wss.once('listening', r));
    const wsPort = (wss.address() as net.AddressInfo).port;
    wss.on('connection', (ws) => ws.on('message', (m) => ws.send(`echo:${String(m)}`)));
    const wsProxy = await startTestProxy(fixedResolver({ address: '127.0.0.1', port: wsPort, family: 4 }));
    try {
      const client = new WebSocket(`ws://127.0.0.1:${wsProxy.proxy.addresses.outbound.port}/chat`);
      const reply = await new Promise<string>((resolve, reject) => {
        client.on('open', () => client.send('hi'));
        client.on('message', (m) => resolve(String(m)));
        client.on('error', reject);
      });
      assert.equal(reply, 'echo:hi');
      client.close();
      // One request line for the upgrade, written when the tunnel closes.
      await waitFor(() => wsProxy.logs.some((l) => l['msg'] === 'request'), 'the WebSocket request line');
      const lines = wsProxy.logs.filter((l) => l['msg'] === 'request');
      assert.equal(lines.length, 1);
      assert.equal(lines[0]?.['method'], 'GET');
      assert.equal(lines[0]?.['path'], '/chat');
      assert.equal(lines[0]?.['status'], 101);
      assert.equal(lines[0]?.['upgrade'], 'websocket');
      assert.ok((lines[0]?.['bytes'] as number) > 0);
    } finally {
      await wsProxy.close();
      await new Promise((r) => wss.close(r));
    }
  });

  const proxies: TestProxy[] = [];
  it('answers 502 upstream_refused, 504 upstream_timeout and 502 upstream_reset with x-skein-error', async () => {
    const closed = net.createServer();
    const closedPort = await listenOn(closed);
    await closeServer(closed);
    const resetter = net.createServer((s) => s.once('data', () => s.resetAndDestroy()));
    try {
      // Each proxy is in `proxies` as soon as it exists, so a failure half-way still closes it below.
      const refused = await startTestProxy(fixedResolver({ address: '127.0.0.1', port: closedPort, family: 4 }));
      proxies.push(refused);
      const resetPort = await listenOn(resetter);
      const reset = await startTestProxy(fixedResolver({ address: '127.0.0.1', port: resetPort, family: 4 }));
      proxies.push(reset);
      const r1 = await rawExchange(refused.proxy.addresses.outbound.port, 'GET / HTTP/1.1\r\nHost: a\r\n\r\n');
      assert.match(r1, /^HTTP\/1\.1 502 /);
      assert.match(r1, /x-skein-error: upstream_refused/i);
      const slow = await startTestProxy(fixedResolver({ address: '127.0.0.1', port: upstreamPort, family: 4 }), ['--response-timeout', '300ms']);
      proxies.push(slow);
      const r2 = await rawExchange(slow.proxy.addresses.outbound.port, 'GET /hang HTTP/1.1\r\nHost: a\r\n\r\n');
      assert.match(r2, /^HTTP\/1\.1 504 /);
      assert.match(r2, /x-skein-error: upstream_timeout/i);
      const r3 = await rawExchange(reset.proxy.addresses.outbound.port, 'GET / HTTP/1.1\r\nHost: a\r\n\r\n');
      assert.match(r3, /^HTTP\/1\.1 502 /);
      assert.match(r3, /x-skein-error: upstream_reset/i);
      // The process survived all of it and still forwards.
      assert.equal((await request('/still')).body, 'echo GET /still ');
    } finally {
      for (const p of proxies.splice(0)) await p.close();
      await closeServer(resetter);
    }
  });

  describe('request smuggling corpus: 400, connection closed, upstream receives nothing', () => {
    const corpus: Record<string, string> = {
      'TE and CL': 'POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nContent-Length: 4\r\n\r\n0\r\n\r\n',
      'duplicate CL, different': 'POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\nContent-Length: 5\r\n\r\nabcde',
      'duplicate CL, same': 'POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\nContent-Length: 4\r\n\r\nabcd',
      'duplicate TE': 'POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n',
      'TE not ending in chunked': 'POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: xchunked\r\n\r\n0\r\n\r\n',
      'TE in HTTP/1.0': 'POST / HTTP/1.0\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n',
      'space before colon': 'POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding : chunked\r\n\r\n0\r\n\r\n',
      'leading space header': 'POST / HTTP/1.1\r\nHost: x\r\n Content-Length: 4\r\n\r\nabcd',
      'obs-fold': 'GET / HTTP/1.1\r\nHost: x\r\nX-A: a\r\n  b\r\n\r\n',
      'bare LF': 'GET / HTTP/1.1\nHost: x\n\n',
      'bare CR': 'GET / HTTP/1.1\rHost: x\r\n\r\n',
      'bare CR in value': 'GET / HTTP/1.1\r\nHost: x\r\nX-A: a\rb\r\n\r\n',
      'NUL in value': 'GET / HTTP/1.1\r\nHost: x\r\nX-A: a\0b\r\n\r\n',
      'CRLF CR X': 'GET / HTTP/1.1\r\nHost: x\r\n\rX\r\n\r\n',
      'two Host headers': 'GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n',
      'missing Host': 'GET / HTTP/1.1\r\n\r\n',
      '__proto__ header': 'GET / HTTP/1.1\r\nHost: a\r\n__proto__: x\r\n\r\n',
      'two Host headers on a WebSocket upgrade': 'GET /ws HTTP/1.1\r\nHost: a\r\nHost: b\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n',
      'two Host headers on an h2c upgrade': 'GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\nConnection: Upgrade\r\nUpgrade: h2c\r\n\r\n',
      'TE not chunked on CONNECT': 'CONNECT a:443 HTTP/1.1\r\nHost: a:443\r\nTransfer-Encoding: xchunked\r\n\r\n',
    };
    for (const [name, bytes] of Object.entries(corpus)) {
      it(name, async () => {
        const before = upstreamBytes;
        const reply = await rawExchange(proxyPort, bytes);
        assert.match(reply, /^HTTP\/1\.1 400 /, `reply was ${JSON.stringify(reply.slice(0, 80))}`);
        assert.match(reply, /x-skein-error: bad_request/i);
        assert.equal(upstreamBytes, before, 'upstream received bytes');
      });
    }
  });
});
