// The kubelet-style gRPC probe against a real grpc-js health server on loopback (h2c), and against
// endpoints that are not one: a closed port, a TCP server that never answers, an HTTP/1.1 server.
import assert from 'node:assert/strict';
import { createServer as createHttpServer } from 'node:http';
import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { after, before, describe, it } from 'node:test';
import type { ServingStatusName } from './health-codec.js';
import { decodeHealthRequest, decodeHealthStatus, encodeHealthRequest, encodeHealthResponse } from './health-codec.js';
import { grpcHealthCheck, PROBE_USER_AGENT } from './grpc.js';
import { startHealthServer, type HealthServer } from './testing/health-server.js';

describe('grpc.health.v1 messages', () => {
  it('round-trip the service name and every status; an empty response is UNKNOWN', () => {
    for (const s of ['', 'shop.v1.Cart', 'ümlaut']) assert.equal(decodeHealthRequest(encodeHealthRequest(s)), s);
    for (const n of [0, 1, 2, 3]) assert.equal(decodeHealthStatus(encodeHealthResponse(n)), n);
    assert.equal(encodeHealthRequest('').length, 0);
    assert.equal(decodeHealthStatus(Buffer.alloc(0)), 0);
    // An unknown length-delimited field 2 before the status is skipped.
    assert.equal(decodeHealthStatus(Buffer.from([0x12, 0x02, 0x61, 0x62, 0x08, 0x02])), 2);
    assert.throws(() => decodeHealthStatus(Buffer.from([0x08])), /truncated/);
  });
});

describe('gRPC probe', () => {
  const statuses = new Map<string, ServingStatusName>([['', 'SERVING'], ['cart', 'NOT_SERVING'], ['odd', 'UNKNOWN'], ['gone', 'SERVICE_UNKNOWN']]);
  let health: HealthServer;
  const extra: Server[] = [];
  const sockets: Socket[] = [];

  before(async () => {
    health = await startHealthServer('127.0.0.1', 0, (s) => statuses.get(s));
  });
  after(async () => {
    for (const s of sockets) s.destroy();
    await Promise.all(extra.map((s) => new Promise((r) => s.close(r))));
    await health.close();
  });

  const listen = async (s: Server): Promise<number> => {
    extra.push(s);
    await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
    return (s.address() as AddressInfo).port;
  };

  it('succeeds only on SERVING, sending the service name and the kube-probe user agent', async () => {
    const ok = await grpcHealthCheck('127.0.0.1', health.port, '', 2000);
    assert.deepEqual(ok, { ok: true, detail: 'service healthy' });
    const last = health.calls.at(-1)!;
    assert.equal(last.service, '');
    assert.match(last.userAgent, new RegExp(`^${PROBE_USER_AGENT}( |$)`));
    for (const [service, status] of [['cart', 'NOT_SERVING'], ['odd', 'UNKNOWN'], ['gone', 'SERVICE_UNKNOWN']] as const) {
      const r = await grpcHealthCheck('127.0.0.1', health.port, service, 2000);
      assert.deepEqual(r, { ok: false, detail: `service unhealthy (responded with "${status}")` }, service);
      assert.equal(health.calls.at(-1)!.service, service);
    }
  });

  it('follows a status change on the next attempt', async () => {
    statuses.set('flip', 'NOT_SERVING');
    assert.equal((await grpcHealthCheck('127.0.0.1', health.port, 'flip', 2000)).ok, false);
    statuses.set('flip', 'SERVING');
    assert.equal((await grpcHealthCheck('127.0.0.1', health.port, 'flip', 2000)).ok, true);
  });

  it('fails on a gRPC error status (an unknown service is NOT_FOUND)', async () => {
    const r = await grpcHealthCheck('127.0.0.1', health.port, 'nobody', 2000);
    assert.equal(r.ok, false);
    assert.match(r.detail, /NOT_FOUND: unknown service "nobody"/);
  });

  it('fails on a closed port', async () => {
    const port = await listen(createServer());
    await new Promise((r) => extra.pop()!.close(r));
    const r = await grpcHealthCheck('127.0.0.1', port, '', 2000);
    assert.equal(r.ok, false);
    assert.match(r.detail, /UNAVAILABLE/);
  });

  it('fails within timeoutSeconds when the server accepts and never answers', async () => {
    const port = await listen(createServer((s) => { sockets.push(s); }));
    const t0 = Date.now();
    const r = await grpcHealthCheck('127.0.0.1', port, '', 500);
    const took = Date.now() - t0;
    assert.equal(r.ok, false);
    assert.match(r.detail, /timeout: health rpc did not complete within 500 ms/);
    assert.ok(took >= 450 && took < 2500, `took ${took} ms for a 500 ms timeout`);
  });

  it('fails against an HTTP/1.1 server (no h2c)', async () => {
    const port = await listen(createHttpServer((_req, res) => res.end('ok')));
    const r = await grpcHealthCheck('127.0.0.1', port, '', 2000);
    assert.equal(r.ok, false);
  });
});
