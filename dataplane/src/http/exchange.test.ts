// The undici path (exchange.ts): what it must do that the http-proxy path did through Node's streams.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import net from 'node:net';
import { fixedResolver } from '../transport/resolver.js';
import { startTestProxy, listenOn, closeServer, rawExchange, waitFor, type TestProxy } from '../proxy/testing.js';

describe('undici exchange', () => {
  const big = Buffer.alloc(64 * 1024 * 1024, 'b');
  let upstreamClosed = 0;
  const upstream = http.createServer((req, res) => {
    res.on('close', () => { if (!res.writableFinished) upstreamClosed++; });
    if (req.url === '/chunked') {
      res.write('one-');
      res.end('two');
      return;
    }
    if (req.url === '/big') {
      res.writeHead(200, { 'content-length': big.length });
      res.end(big);
      return;
    }
    if (req.url === '/endless') {
      res.writeHead(200, { 'content-type': 'text/plain' });
      const timer = setInterval(() => res.write('tick\n'), 5);
      res.on('close', () => clearInterval(timer));
      return;
    }
    res.end(`${req.method} ${req.url} ${req.headers['content-length'] ?? '-'}`);
  });
  let tp: TestProxy;
  let port: number;
  before(async () => {
    const upstreamPort = await listenOn(upstream);
    tp = await startTestProxy(fixedResolver({ address: '127.0.0.1', port: upstreamPort, family: 4 }));
    port = tp.proxy.addresses.outbound.port;
  });
  after(async () => {
    await tp.close();
    await closeServer(upstream);
  });

  it('an HTTP/1.0 client gets a chunked upstream body without chunked framing, ended by close', async () => {
    const reply = await rawExchange(port, 'GET /chunked HTTP/1.0\r\nHost: a\r\n\r\n');
    assert.match(reply, /^HTTP\/1\.1 200 OK\r\n/);
    assert.doesNotMatch(reply, /transfer-encoding/i);
    assert.match(reply, /\r\n\r\none-two$/);
  });

  it('a request body with Content-Length reaches the upstream whole', async () => {
    const reply = await rawExchange(port, 'POST /body HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nConnection: close\r\n\r\nhello');
    assert.match(reply, /POST \/body 5$/);
  });

  it('a client that does not read holds the upstream back (backpressure): the proxy buffers far less than the body', async () => {
    const client = net.connect(port, '127.0.0.1');
    await new Promise((resolve) => client.once('connect', resolve));
    client.write('GET /big HTTP/1.1\r\nHost: a\r\n\r\n');
    let received = 0;
    client.once('data', (chunk: Buffer) => { received += chunk.length; client.pause(); });
    await waitFor(() => received > 0, 'the first bytes');
    // Let the pipeline fill up to where backpressure holds it.
    await new Promise((resolve) => setTimeout(resolve, 300));
    const buffered = tp.proxy.bufferedBytes();
    assert.ok(buffered < big.length / 4, `proxy buffers ${buffered} bytes of a ${big.length}-byte body`);
    client.on('data', (chunk: Buffer) => { received += chunk.length; });
    client.resume();
    await waitFor(() => received >= big.length, 'the whole body', 20_000);
    client.destroy();
  });

  it('a client that goes away mid-response cancels the upstream request', async () => {
    const before = upstreamClosed;
    const client = net.connect(port, '127.0.0.1');
    client.on('error', () => undefined);
    await new Promise((resolve) => client.once('connect', resolve));
    client.write('GET /endless HTTP/1.1\r\nHost: a\r\n\r\n');
    await new Promise((resolve) => client.once('data', resolve));
    client.destroy();
    await waitFor(() => upstreamClosed > before, 'the upstream response to be cut');
  });
});
