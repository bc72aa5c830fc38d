// Policies as they really arrive: a TLS gRPC skein-cp on loopback (discovery/testing/fake-cp.ts) streams
// snapshots with TrafficPermissions to the real mesh client; the decisions follow each new snapshot, the
// admin server's /config_dump shows the compiled rules, and with skein-cp gone the last policies are
// still enforced (fail static, never open).
import assert from 'node:assert/strict';
import http from 'node:http';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Action, MtlsMode, type discovery } from '@skein/api';
import { parseRunConfig } from '../config/index.js';
import { Backoff } from '../identity/backoff.js';
import { createLogControl } from '../log/index.js';
import { ProxyState } from '../lifecycle/state.js';
import { createMetrics } from '../metrics/index.js';
import type { MeshClient } from '../discovery/index.js';
import { startMeshClientNow } from '../discovery/mesh-client.js';
import { createCa, FakeControlPlane, servingIdentity, snapshotOf } from '../discovery/testing/fake-cp.js';
import { waitFor } from '../proxy/testing.js';
import { listen } from '../transport/listen.js';
import { createAdminServer } from '../admin/server.js';
import { InboundAuthz } from './enforce.js';
import { permission } from './testing/discovery.js';

const SPIFFE = 'spiffe://cluster.local/ns/shop/sa/orders';
const FRONTEND = 'spiffe://cluster.local/ns/shop/sa/frontend';
const BILLS = 'spiffe://cluster.local/ns/shop/sa/bills';
const TOKEN = 'token-for-the-policy-test';

function get(port: number, path: string): Promise<string> {
  return new Promise((resolve, reject) => {
    http.get({ host: '127.0.0.1', port, path, agent: false }, (res) => {
      let body = '';
      res.on('data', (c: Buffer) => { body += c.toString(); });
      res.on('end', () => resolve(body));
    }).on('error', reject);
  });
}

describe('policies from a real Discovery.Watch stream', () => {
  let dir: string;
  let cp: FakeControlPlane;
  let client: MeshClient;
  let anchors: string[];
  let admin: http.Server;
  const snapshot = (version: string, policies: discovery.TrafficPermission[], defaultAction = Action.ACTION_ALLOW): discovery.Snapshot => snapshotOf({
    version, policies, trustAnchorsPem: anchors,
    mesh: { name: 'default', mtlsMode: MtlsMode.MTLS_MODE_STRICT, certTtlSeconds: 3600, defaultAction, trustDomain: 'cluster.local' },
  });
  const ordersFromFrontend = permission('shop', 'orders-from-frontend', 'Allow', [{ serviceAccounts: ['shop/frontend'] }], [{ ports: [8080], methods: ['GET'], paths: ['/orders/*'] }]);

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'skein-policy-snapshot-test-'));
    const serving = await servingIdentity();
    const meshCa = await createCa('skein test mesh root');
    anchors = [meshCa.certPem];
    cp = new FakeControlPlane({ serving, meshCa, spiffeId: SPIFFE, token: () => TOKEN, defaultTtlSeconds: 3600 });
    await cp.start();
    cp.publish(snapshot('v1', [ordersFromFrontend]));
    await writeFile(join(dir, 'token'), TOKEN);
    await writeFile(join(dir, 'cp-ca.pem'), serving.ca.certPem);
    const config = parseRunConfig([], {
      SKEIN_CP_ADDRESS: `127.0.0.1:${cp.port}`, SKEIN_TOKEN_PATH: join(dir, 'token'), SKEIN_CP_CA_PATH: join(dir, 'cp-ca.pem'),
      POD_NAME: 'orders-0', POD_NAMESPACE: 'shop',
    });
    const logs = createLogControl('silent');
    client = await startMeshClientNow({ config, log: logs.root, metrics: createMetrics(), backoff: () => new Backoff({ minMs: 50, maxMs: 200 }) });
    await client.whenReady();
    admin = createAdminServer({
      config, state: new ProxyState(), metrics: createMetrics(), logs, log: logs.root,
      listeners: () => ({}), drain: () => {}, quit: () => {}, mesh: () => client,
    });
  });
  after(async () => {
    client?.stop();
    cp?.stop();
    admin?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('decisions follow each snapshot; /config_dump shows the compiled rules; with skein-cp gone the last ones still hold', async () => {
    const log = createLogControl('silent').root;
    const authz = new InboundAuthz(client.discovery, createMetrics(), log);
    const frontend = authz.connection(FRONTEND, 8080, log);
    const bills = authz.connection(BILLS, 8080, log);
    const decide = (c: typeof frontend, path: string): string => {
      const r = c.request('GET', path);
      return r.kind === 'bad' ? 'bad' : `${r.decision.allowed ? 'allow' : 'deny'} ${r.decision.policy}`;
    };
    assert.equal(decide(frontend, '/orders/1'), 'allow shop/orders-from-frontend');
    assert.equal(decide(bills, '/orders/1'), 'deny shop/orders-from-frontend');

    const port = (await listen(admin, 0, '127.0.0.1')).port;
    const dump = JSON.parse(await get(port, '/config_dump')) as { policies: { version: string; defaultAction: string; rules: Array<{ policy: string; action: string; to: unknown }> } };
    assert.equal(dump.policies.version, 'v1');
    assert.equal(dump.policies.defaultAction, 'Allow');
    assert.deepEqual(dump.policies.rules.map((r) => [r.policy, r.action]), [['shop/orders-from-frontend', 'Allow']]);
    assert.deepEqual(dump.policies.rules[0]?.to, [{ ports: [8080], methods: ['GET'], paths: ['/orders/*'], opaque: 'never matches opaque TCP' }]);

    // A new snapshot: the open connections' next requests are judged by it.
    cp.publish(snapshot('v2', [ordersFromFrontend, permission('shop', 'bills-too', 'Allow', [{ serviceAccounts: ['shop/bills'] }])], Action.ACTION_DENY));
    await waitFor(() => client.discovery.current()?.version === 'v2', 'snapshot v2');
    assert.equal(decide(bills, '/orders/1'), 'allow shop/bills-too');
    assert.equal(decide(frontend, '/admin'), 'deny shop/orders-from-frontend');
    const dump2 = JSON.parse(await get(port, '/config_dump')) as { policies: { version: string; defaultAction: string; rules: Array<{ policy: string }> } };
    assert.equal(dump2.policies.defaultAction, 'Deny');
    assert.deepEqual(dump2.policies.rules.map((r) => r.policy), ['shop/bills-too', 'shop/orders-from-frontend']);

    // skein-cp gone: the stream breaks, the last snapshot is kept and enforced.
    cp.stop();
    await waitFor(() => cp.openStreams() === 0, 'the stream to break');
    assert.equal(client.discovery.current()?.version, 'v2');
    assert.equal(decide(bills, '/orders/1'), 'allow shop/bills-too');
    assert.equal(decide(frontend, '/admin'), 'deny shop/orders-from-frontend');
    const other = authz.connection('spiffe://cluster.local/ns/shop/sa/other', 8080, log);
    assert.equal(decide(other, '/orders/1'), 'deny shop/bills-too');
    authz.stop();
  });
});
