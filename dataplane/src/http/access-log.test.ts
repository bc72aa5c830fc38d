import { describe, it, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { fixedResolver } from '../transport/resolver.js';
import { startTestProxy, listenOn, closeServer, rawExchange, waitFor, type TestProxy } from '../proxy/testing.js';

describe('--access-log', () => {
  const upstream = http.createServer((req, res) => res.end(`hi ${req.url}`));
  const proxies: TestProxy[] = [];
  after(async () => {
    for (const p of proxies) await p.close();
    await closeServer(upstream);
  });

  it('off: no request lines, the connection line and the request metrics stay', async () => {
    const port = await listenOn(upstream);
    const tp = await startTestProxy(fixedResolver({ address: '127.0.0.1', port, family: 4 }), ['--access-log', 'off']);
    proxies.push(tp);
    assert.equal(tp.config.accessLog, false);
    const reply = await rawExchange(tp.proxy.addresses.outbound.port, 'GET /quiet HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n');
    assert.match(reply, /hi \/quiet$/);
    await waitFor(() => tp.logs.some((l) => l['msg'] === 'connection closed'), 'the connection line');
    assert.equal(tp.logs.filter((l) => l['msg'] === 'request').length, 0);
    const requests = await tp.proxy.metrics.httpRequests.get();
    assert.ok(requests.values.some((v) => v.labels.status_class === '2xx' && v.value === 1));
  });

  it('on (default): the line is valid JSON with the connection bindings and the client-chosen values escaped', async () => {
    const port = (upstream.address() as { port: number }).port;
    const tp = await startTestProxy(fixedResolver({ address: '127.0.0.1', port, family: 4 }));
    proxies.push(tp);
    assert.equal(tp.config.accessLog, true);
    await rawExchange(tp.proxy.addresses.outbound.port, 'GET /q"uo\\te HTTP/1.1\r\nHost: h"x\r\nX-Request-Id: id"1\r\nConnection: close\r\n\r\n');
    await waitFor(() => tp.logs.some((l) => l['msg'] === 'request'), 'the request line');
    const line = tp.logs.find((l) => l['msg'] === 'request') as Record<string, unknown>;
    assert.equal(line['path'], '/q"uo\\te');
    assert.equal(line['authority'], 'h"x');
    assert.equal(line['requestId'], 'id"1');
    assert.equal(line['level'], 30);
    assert.equal(typeof line['conn'], 'number');
    assert.equal(line['direction'], 'outbound');
  });
});
