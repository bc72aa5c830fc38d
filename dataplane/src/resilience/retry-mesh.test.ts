// Retries through real sidecars on loopback: the client sidecar balances a Service over four endpoints:
// two healthy, one whose sidecar is gone (connections refused) and one whose sidecar runs but whose app is
// gone (that sidecar answers 502 upstream_refused). A body-less GET that hits either is sent again to
// another endpoint and succeeds; a POST with a body is not retried (its body is not kept) and gets the
// 502 that says why.
import assert from 'node:assert/strict';
import http from 'node:http';
import net from 'node:net';
import { after, before, describe, it } from 'node:test';
import { createTestCa } from '../mtls/testing/pki.js';
import { spiffe, startMeshProxy, TestDiscovery, TestIdentity, workloadCert, type MeshProxy } from '../mtls/testing/mesh.js';
import { closeServer, listenOn } from '../proxy/testing.js';
import { serviceSnapshot, SnapshotDiscovery } from '../balance/testing.js';

const VIP = { address: '10.96.0.11', port: 80, family: 4 as const };
const SERVER_ID = spiffe('shop', 'orders');

function request(port: number, agent: http.Agent, method = 'GET', body?: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, path: '/orders', method, agent, headers: { host: 'orders.shop' } }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => { text += c; });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

/** A loopback port nothing listens on (bound, then closed): connections to it are refused. */
async function refusedPort(): Promise<number> {
  const s = net.createServer();
  const port = await listenOn(s as unknown as http.Server);
  await closeServer(s as unknown as http.Server);
  return port;
}

describe('retries of failed attempts through mTLS sidecars', () => {
  const apps: http.Server[] = [];
  const servers: MeshProxy[] = [];
  let client: MeshProxy;

  before(async () => {
    const ca = await createTestCa();
    const anchors = [ca.certPem];
    for (const name of ['app-a', 'app-b']) {
      const app = http.createServer((req, res) => { req.resume(); req.on('end', () => res.end(name)); });
      apps.push(app);
      servers.push(await startMeshProxy({
        identity: new TestIdentity(await workloadCert(ca, SERVER_ID)), discovery: new TestDiscovery({ trustAnchorsPem: anchors }),
        inboundTo: { address: '127.0.0.1', port: await listenOn(app), family: 4 },
      }));
    }
    const dead = await refusedPort();
    // A sidecar whose app is gone: it answers 502 with x-skein-error: upstream_refused.
    const orphan = await startMeshProxy({
      identity: new TestIdentity(await workloadCert(ca, SERVER_ID)), discovery: new TestDiscovery({ trustAnchorsPem: anchors }),
      inboundTo: { address: '127.0.0.1', port: await refusedPort(), family: 4 },
    });
    servers.push(orphan);
    // Round robin takes them in this order; a retry goes to the next one, so no two failing ones touch
    // (at most 2 attempts per request).
    const disc = new SnapshotDiscovery(serviceSnapshot(VIP.address, [servers[0]!.inbound, dead, servers[1]!.inbound, orphan.inbound], SERVER_ID, anchors));
    client = await startMeshProxy({ identity: new TestIdentity(await workloadCert(ca, spiffe('shop', 'web'))), discovery: disc, outboundTo: VIP });
  });
  after(async () => {
    await client.close();
    for (const s of servers) await s.close();
    for (const a of apps) await closeServer(a);
  });

  it('every GET succeeds although half of the picks land on a failing endpoint; the retries are counted', async () => {
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    const bodies: string[] = [];
    for (let i = 0; i < 16; i++) {
      const r = await request(client.outbound, agent);
      assert.equal(r.status, 200, `request ${i}: ${r.status} ${r.body}`);
      bodies.push(r.body);
    }
    agent.destroy();
    assert.deepEqual([...new Set(bodies)].sort(), ['app-a', 'app-b']);
    const text = await client.metrics.registry.getSingleMetricAsString('skein_dp_retries_total');
    const sent = Number(/result="sent"\} (\d+)/.exec(text)?.[1] ?? 0);
    assert.ok(sent >= 1, `retries were sent:\n${text}`);
  });

  it('a POST with a body that lands on the refusing endpoint is not retried: 502 upstream_refused', async () => {
    const agent = new http.Agent({ keepAlive: false });
    const statuses = new Set<number>();
    const seen: string[] = [];
    for (let i = 0; i < 8; i++) { const r = await request(client.outbound, agent, 'POST', 'x'.repeat(100)); statuses.add(r.status); seen.push(`${r.status} ${r.body.trim()}`); }
    agent.destroy();
    assert.ok(statuses.has(502), `round-robin POSTs hit the failing endpoints and are answered 502: ${seen.join(" | ")}`);
    assert.ok(statuses.has(200));
  });
});
