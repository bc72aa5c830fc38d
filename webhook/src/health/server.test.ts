import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { pino } from 'pino';
import { Registry, Counter } from 'prom-client';
import { startHealthServer } from './server.js';
import { closeHttpServer } from '../server.js';
import { ListenError } from '../errors.js';

let notReady: string | undefined = 'webhook not listening';
const registry = new Registry();
new Counter({ name: 'skein_test_total', help: 'x', registers: [registry] }).inc(3);
const { server, port } = await startHealthServer(
  { registry, logger: pino({ level: 'silent' }), readiness: { notReadyReason: () => notReady } },
  '127.0.0.1',
  0,
);
after(() => closeHttpServer(server, 1000));

function call(method: string, path: string): Promise<{ status: number; body: string; headers: Record<string, unknown> }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, method, path }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body, headers: res.headers }));
    });
    req.on('error', reject);
    req.end();
  });
}

test('/healthz is 200 whenever the process answers', async () => {
  assert.deepEqual((await call('GET', '/healthz')).status, 200);
});

test('/readyz follows readiness and says why not', async () => {
  notReady = 'webhook not listening';
  const r = await call('GET', '/readyz');
  assert.equal(r.status, 503);
  assert.match(r.body, /webhook not listening/);
  notReady = undefined;
  assert.equal((await call('GET', '/readyz?verbose')).status, 200);
});

test('/metrics exposes the registry in Prometheus text format', async () => {
  const r = await call('GET', '/metrics');
  assert.equal(r.status, 200);
  assert.match(String(r.headers['content-type']), /text\/plain/);
  assert.match(r.body, /^skein_test_total 3$/m);
});

test('other paths are 404, other methods 405 with Allow; HEAD has no body', async () => {
  assert.equal((await call('GET', '/')).status, 404);
  assert.equal((await call('GET', '/healthz/extra')).status, 404);
  const post = await call('POST', '/healthz');
  assert.equal(post.status, 405);
  assert.equal(post.headers['allow'], 'GET, HEAD');
  assert.equal((await call('DELETE', '/metrics')).status, 405);
  const head = await call('HEAD', '/healthz');
  assert.equal(head.status, 200);
  assert.equal(head.body, '');
});

test('a port already in use is a ListenError that names the flag to change', async () => {
  const second = startHealthServer({ registry, logger: pino({ level: 'silent' }), readiness: { notReadyReason: () => undefined } }, '127.0.0.1', port);
  await assert.rejects(second, (e: unknown) => e instanceof ListenError && e.code === 'SKEIN_CP_LISTEN' && /EADDRINUSE/.test(e.message) && /--health-port/.test(e.message));
});
