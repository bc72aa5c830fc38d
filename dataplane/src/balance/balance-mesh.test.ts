// Per-request balancing through real sidecars on loopback: a client keeps ONE keep-alive connection to
// its sidecar's outbound listener (the original destination is a Service's virtual IP); the client
// sidecar balances each request over three endpoints, each a sidecar (mTLS, skein/h1 pooled
// connections) in front of its own app. The route index is the real one (discovery/mesh-view.ts built
// from a discovery snapshot with Service.load_balancer).
import assert from 'node:assert/strict';
import http from 'node:http';
import type net from 'node:net';
import { after, before, describe, it } from 'node:test';
import type { discovery } from '@skein/api';
import { createTestCa } from '../mtls/testing/pki.js';
import { spiffe, startMeshProxy, TestDiscovery, TestIdentity, workloadCert, type MeshProxy } from '../mtls/testing/mesh.js';
import { closeServer, listenOn } from '../proxy/testing.js';
import { serviceSnapshot, SnapshotDiscovery } from './testing.js';

const VIP = { address: '10.96.0.10', port: 80, family: 4 as const };
const SERVER_ID = spiffe('shop', 'orders');

const snapshot = (ports: number[], anchors: string[], lb?: discovery.LoadBalancer): discovery.Snapshot => serviceSnapshot(VIP.address, ports, SERVER_ID, anchors, lb);

/** GET over the given agent (one keep-alive socket); the body is the app's name. */
function get(port: number, agent: http.Agent, headers: Record<string, string> = {}): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, path: '/orders', agent, headers: { host: 'orders.shop', ...headers } }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => { body += c; });
      res.on('end', () => (res.statusCode === 200 ? resolve(body) : reject(new Error(`status ${res.statusCode}: ${body}`))));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('per-request balancing through mTLS sidecars', () => {
  const apps: http.Server[] = [];
  const servers: MeshProxy[] = [];
  let client: MeshProxy;
  let disc: SnapshotDiscovery;
  let anchors: string[];
  const clientSockets = new Set<net.Socket>();

  before(async () => {
    const ca = await createTestCa();
    anchors = [ca.certPem];
    for (const name of ['app-a', 'app-b', 'app-c']) {
      const app = http.createServer((_req, res) => res.end(name));
      apps.push(app);
      const appPort = await listenOn(app);
      servers.push(await startMeshProxy({
        identity: new TestIdentity(await workloadCert(ca, SERVER_ID)), discovery: new TestDiscovery({ trustAnchorsPem: anchors }),
        inboundTo: { address: '127.0.0.1', port: appPort, family: 4 },
      }));
    }
    disc = new SnapshotDiscovery(snapshot(servers.map((s) => s.inbound), anchors));
    client = await startMeshProxy({ identity: new TestIdentity(await workloadCert(ca, spiffe('shop', 'web'))), discovery: disc, outboundTo: VIP });
  });
  after(async () => {
    for (const s of clientSockets) s.destroy();
    await client.close();
    for (const s of servers) await s.close();
    for (const a of apps) await closeServer(a);
  });

  const oneConnection = (): http.Agent => {
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    agent.on('free', (s: net.Socket) => clientSockets.add(s));
    return agent;
  };

  it('round robin: 30 requests over one client connection reach each of the three apps 10 times', async () => {
    const agent = oneConnection();
    const seen = new Map<string, number>();
    const sockets = new Set<net.Socket>();
    for (let i = 0; i < 30; i++) {
      const body = await get(client.outbound, agent);
      seen.set(body, (seen.get(body) ?? 0) + 1);
    }
    for (const s of Object.values(agent.freeSockets).flat()) if (s) sockets.add(s);
    agent.destroy();
    assert.deepEqual([...seen.entries()].sort(), [['app-a', 10], ['app-b', 10], ['app-c', 10]]);
    assert.equal(sockets.size, 1, 'one client connection');
  });

  it('round robin: a client opening a connection per request reaches each app as often (one pick per connection, not two)', async () => {
    // Two endpoints: two picks per connection would send every request to the same one.
    disc.set(snapshot(servers.slice(0, 2).map((s) => s.inbound), anchors));
    const seen = new Map<string, number>();
    for (let i = 0; i < 20; i++) {
      const agent = new http.Agent({ keepAlive: false });
      const body = await get(client.outbound, agent);
      agent.destroy();
      seen.set(body, (seen.get(body) ?? 0) + 1);
    }
    disc.set(snapshot(servers.map((s) => s.inbound), anchors));
    assert.deepEqual([...seen.entries()].sort(), [['app-a', 10], ['app-b', 10]]);
  });

  it('hash:header:x-user: one key always lands on one app, several keys spread over the apps', async () => {
    disc.set(snapshot(servers.map((s) => s.inbound), anchors, { policy: 4, hashKey: 'x-user', invalidAnnotation: '' }));
    const agent = oneConnection();
    const byKey = new Map<string, Set<string>>();
    for (let round = 0; round < 4; round++) {
      for (let k = 0; k < 12; k++) {
        const body = await get(client.outbound, agent, { 'x-user': `user-${k}` });
        const set = byKey.get(`user-${k}`) ?? new Set<string>();
        set.add(body);
        byKey.set(`user-${k}`, set);
      }
    }
    agent.destroy();
    for (const [key, set] of byKey) assert.equal(set.size, 1, `${key} went to ${[...set].join(', ')}`);
    const used = new Set([...byKey.values()].map((s) => [...s][0]));
    assert.ok(used.size >= 2, `12 keys all on ${[...used].join(', ')}`);
  });

  it('an endpoint removed from the snapshot gets no more requests on the same client connection', async () => {
    disc.set(snapshot(servers.slice(0, 2).map((s) => s.inbound), anchors));
    const agent = oneConnection();
    const seen = new Set<string>();
    for (let i = 0; i < 10; i++) seen.add(await get(client.outbound, agent));
    disc.set(snapshot(servers.slice(1, 2).map((s) => s.inbound), anchors));
    const after = new Set<string>();
    for (let i = 0; i < 10; i++) after.add(await get(client.outbound, agent));
    agent.destroy();
    assert.deepEqual([...seen].sort(), ['app-a', 'app-b']);
    assert.deepEqual([...after], ['app-b']);
  });
});
