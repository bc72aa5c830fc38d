// HTTP edge cases from reliability §6 (N1, N2, N5, N7, O3, D3) and HTTP/2 prior knowledge (L4 in this
// version), each through a real proxy to a real upstream.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import http2 from 'node:http2';
import net from 'node:net';
import { fixedResolver } from '../transport/resolver.js';
import { startTestProxy, listenOn, closeServer, rawExchange, recordingServer, type TestProxy } from '../proxy/testing.js';

describe('HTTP edge cases', () => {
  const servers: net.Server[] = [];
  const proxies: TestProxy[] = [];
  after(async () => {
    for (const p of proxies) await p.close();
    for (const s of servers) await closeServer(s);
  });

  async function via(server: net.Server): Promise<TestProxy> {
    servers.push(server);
    const port = await listenOn(server);
    const tp = await startTestProxy(fixedResolver({ address: '127.0.0.1', port, family: 4 }));
    proxies.push(tp);
    return tp;
  }

  let plain: TestProxy;
  before(async () => {
    plain = await via(http.createServer((req, res) => {
      if (req.url === '/upgrade-refused') { res.end('no tunnel here'); return; }
      setTimeout(() => res.end(`reply ${req.url}`), req.url === '/first' ? 100 : 0);
    }));
  });

  it('three pipelined requests are answered in order (N7)', async () => {
    const reply = await rawExchange(plain.proxy.addresses.outbound.port,
      'GET /first HTTP/1.1\r\nHost: a\r\n\r\nGET /second HTTP/1.1\r\nHost: a\r\n\r\nGET /third HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n', { end: false });
    const bodies = [...reply.matchAll(/reply (\/(?:first|second|third))/g)].map((m) => m[1]);
    assert.deepEqual(bodies, ['/first', '/second', '/third']);
  });

  it('a client that sends FIN right after its request still gets the full response (N1)', async () => {
    const reply = await rawExchange(plain.proxy.addresses.outbound.port, 'GET /fin HTTP/1.1\r\nHost: a\r\n\r\n');
    assert.match(reply, /^HTTP\/1\.1 200 OK/);
    assert.match(reply, /reply \/fin$/);
  });

  it('200 answering an Upgrade: forwarded, no tunnel, connection not reused (N5)', async () => {
    const reply = await rawExchange(plain.proxy.addresses.outbound.port,
      'GET /upgrade-refused HTTP/1.1\r\nHost: a\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\nGET /next HTTP/1.1\r\nHost: a\r\n\r\n', { end: false });
    assert.match(reply, /^HTTP\/1\.1 200 OK/);
    assert.match(reply, /no tunnel here/);
    assert.doesNotMatch(reply, /reply \/next/, 'bytes after the refused upgrade were not treated as a new request');
  });

  it('an upstream RST after a complete response does not truncate it (N2)', async () => {
    const body = 'x'.repeat(200_000);
    const tp = await via(net.createServer((s) => {
      s.once('data', () => {
        s.write(`HTTP/1.1 200 OK\r\nContent-Length: ${body.length}\r\n\r\n${body}`, () => setTimeout(() => s.resetAndDestroy(), 20));
      });
    }));
    const res = await new Promise<{ status: number; length: number }>((resolve, reject) => {
      http.get({ host: '127.0.0.1', port: tp.proxy.addresses.outbound.port, path: '/big', agent: false }, (r) => {
        let n = 0;
        r.on('data', (c: Buffer) => { n += c.length; });
        r.on('end', () => resolve({ status: r.statusCode ?? 0, length: n }));
        r.on('error', reject);
      }).on('error', reject);
    });
    assert.deepEqual(res, { status: 200, length: body.length });
  });

  it('an upstream RST in the middle of a body resets the client instead of leaving it waiting (N2)', async () => {
    const tp = await via(net.createServer((s) => {
      s.once('data', () => s.write('HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n\r\npartial', () => setTimeout(() => s.resetAndDestroy(), 50)));
    }));
    const outcome = await new Promise<string>((resolve) => {
      const client = net.connect(tp.proxy.addresses.outbound.port, '127.0.0.1', () => client.write('GET /cut HTTP/1.1\r\nHost: a\r\n\r\n'));
      client.on('data', () => undefined);
      client.on('end', () => resolve('FIN'));
      client.on('error', (e: NodeJS.ErrnoException) => resolve(e.code ?? e.message));
    });
    assert.equal(outcome, 'ECONNRESET', 'a truncated body must not look like a clean close');
    const errors = await tp.proxy.metrics.errors.get();
    assert.ok(errors.values.some((v) => v.labels.code === 'upstream_reset' && v.value >= 1));
  });

  it('CONNECT and h2c upgrades are forwarded byte for byte as TCP (O3)', async () => {
    const { server, received } = recordingServer((s) => s.once('data', () => s.end('HTTP/1.1 200 Connection established\r\n\r\ntunnel-bytes')));
    const tp = await via(server);
    const reply = await rawExchange(tp.proxy.addresses.outbound.port, 'CONNECT db.example:5432 HTTP/1.1\r\nHost: db.example:5432\r\n\r\nPAYLOAD');
    assert.match(reply, /200 Connection established\r\n\r\ntunnel-bytes$/);
    const upstreamSaw = Buffer.concat(received).toString();
    assert.match(upstreamSaw, /^CONNECT db\.example:5432 HTTP\/1\.1\r\nHost: db\.example:5432\r\n\r\n/);
    const h2c = await rawExchange(plain.proxy.addresses.outbound.port,
      'GET /h2c HTTP/1.1\r\nHost: a\r\nConnection: Upgrade, HTTP2-Settings, close\r\nUpgrade: h2c\r\nHTTP2-Settings: AAMAAABkAARAAAAAAAIAAAAA\r\n\r\n', { end: false });
    assert.match(h2c, /^HTTP\/1\.1 200 OK/, 'an upstream that ignores the upgrade answers normally');
    assert.match(h2c, /reply \/h2c/);
  });

  it('metric labels stay bounded whatever paths and authorities clients send (D3)', async () => {
    for (let i = 0; i < 40; i++) {
      await rawExchange(plain.proxy.addresses.outbound.port, `GET /p${i}/${'z'.repeat(i)} HTTP/1.1\r\nHost: h${i}.example\r\n\r\n`);
    }
    const metrics = await plain.proxy.metrics.registry.metrics();
    const series = metrics.split('\n').filter((l) => l.startsWith('skein_dp_') && !l.startsWith('skein_dp_process') && !l.startsWith('skein_dp_nodejs'));
    assert.ok(series.length < 40, `${series.length} series`);
    assert.doesNotMatch(metrics, /h\d+\.example|\/p\d+/);
  });

  it('HTTP/2 with prior knowledge (gRPC-style: POST, body, trailers) goes through as L4', async () => {
    const h2 = http2.createServer();
    h2.on('stream', (stream, headers) => {
      let body = '';
      stream.on('data', (c: Buffer) => { body += c.toString(); });
      stream.on('end', () => {
        stream.respond({ ':status': 200, 'content-type': 'application/grpc' }, { waitForTrailers: true });
        stream.on('wantTrailers', () => stream.sendTrailers({ 'grpc-status': '0' }));
        stream.end(`${String(headers[':path'])} got ${body}`);
      });
    });
    const tp = await via(h2);
    const client = http2.connect(`http://127.0.0.1:${tp.proxy.addresses.outbound.port}`);
    client.on('error', () => undefined);
    try {
      const answer = await new Promise<{ status: unknown; body: string; trailers: http2.IncomingHttpHeaders }>((resolve, reject) => {
        const req = client.request({ ':method': 'POST', ':path': '/pkg.Svc/Call', 'content-type': 'application/grpc' });
        let status: unknown;
        let body = '';
        let trailers: http2.IncomingHttpHeaders = {};
        req.on('response', (h) => { status = h[':status']; });
        req.on('trailers', (t) => { trailers = t; });
        req.on('data', (c: Buffer) => { body += c.toString(); });
        req.on('end', () => resolve({ status, body, trailers }));
        req.on('error', reject);
        req.end('ping');
      });
      assert.equal(answer.status, 200);
      assert.equal(answer.body, '/pkg.Svc/Call got ping');
      assert.equal(answer.trailers['grpc-status'], '0');
    } finally {
      client.destroy();
    }
    const detections = await tp.proxy.metrics.detections.get();
    assert.ok(detections.values.some((v) => v.labels.protocol === 'h2' && v.labels.reason === 'sniffed' && v.value === 1));
  });
});
