// The skein-ca-root publisher against the in-memory API server: it creates the ConfigMap in namespaces
// with injected pods (labelled, or holding a pod annotated skein.io/injected), skips the others, repairs
// drift (edited data, an extra key, a copy made immutable), follows a change of the anchors, and writes
// nothing while this replica is not the leader.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { connect, type KubeIo } from '../../kube/client.js';
import { CONFIG_MAPS } from '../../kube/testing/apiserver/kinds-configmap.js';
import { NAMESPACES, PODS } from '../../kube/testing/apiserver/kinds-discovery.js';
import { FakeApiServer } from '../../kube/testing/apiserver/server.js';
import { loadCaMaterial } from './material.js';
import { SwappableCa } from './mesh-ca.js';
import { startCaRootPublisher, injectedNamespacesOf, CA_ROOT_CONFIGMAP, type CaRootPublisher } from './publisher.js';
import { generateRootCa } from './root.js';

const quiet = pino({ level: 'silent' });
const CP_CA = '-----BEGIN CERTIFICATE-----\nY29udHJvbCBwbGFuZQ==\n-----END CERTIFICATE-----\n';
const servers: FakeApiServer[] = [];
const dirs: string[] = [];
const pubs: CaRootPublisher[] = [];
after(async () => {
  for (const p of pubs) await p.stop();
  for (const s of servers) await s.close();
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
async function until(what: string, cond: () => boolean | Promise<boolean>): Promise<void> {
  const deadline = Date.now() + 20_000; // failure guard only
  while (!(await cond())) {
    if (Date.now() > deadline) assert.fail(`timed out waiting for: ${what}`);
    await sleep(20);
  }
}

const pod = (namespace: string, name: string, injected: boolean): Record<string, unknown> => ({
  apiVersion: 'v1', kind: 'Pod',
  metadata: { name, namespace, ...(injected ? { annotations: { 'skein.io/injected': '0.1.0' } } : {}) },
  spec: { containers: [{ name: 'app', image: 'nginx:1.27' }] },
});

async function setup(): Promise<{ api: FakeApiServer; io: KubeIo; ca: SwappableCa }> {
  const api = await FakeApiServer.start({ namespaces: ['default', 'skein-system', 'legacy', 'plain'] });
  servers.push(api);
  api.seed(NAMESPACES, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'shop', labels: { 'skein.io/inject': 'enabled' } } });
  api.seed(NAMESPACES, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'off', labels: { 'skein.io/inject': 'disabled' } } });
  api.seed(PODS, pod('legacy', 'old-app', true)); // injected before its namespace label was removed
  api.seed(PODS, pod('plain', 'app', false));
  const dir = await mkdtemp(join(tmpdir(), 'sk-ut-meshca-pub-'));
  dirs.push(dir);
  const io = await connect(await api.writeKubeconfig(dir));
  const root = await generateRootCa('cluster.local');
  const ca = new SwappableCa(quiet);
  ca.replace(await loadCaMaterial({ certPem: root.certPem, keyPem: root.keyPem }, 'test'));
  return { api, io, ca };
}

function publish(io: KubeIo, ca: SwappableCa, leader: () => boolean = () => true): CaRootPublisher {
  const p = startCaRootPublisher({ io, ca, controlPlaneCaPem: () => CP_CA, isLeader: leader, log: quiet, intervalMs: 40 });
  pubs.push(p);
  return p;
}

const dataIn = (api: FakeApiServer, ns: string): Record<string, string> | undefined =>
  api.get(CONFIG_MAPS, ns, CA_ROOT_CONFIGMAP)?.data as Record<string, string> | undefined;
const expected = (ca: SwappableCa): Record<string, string> => ({ 'root-cert.pem': ca.trustAnchorsPem().join(''), 'control-plane-ca.pem': CP_CA });

test('creates skein-ca-root in labelled namespaces and in namespaces holding injected pods, and nowhere else', async () => {
  const { api, io, ca } = await setup();
  publish(io, ca);
  await until('published in shop and legacy', () => dataIn(api, 'shop') !== undefined && dataIn(api, 'legacy') !== undefined);
  assert.deepEqual(dataIn(api, 'shop'), expected(ca));
  assert.deepEqual(dataIn(api, 'legacy'), expected(ca));
  const labels = (api.get(CONFIG_MAPS, 'shop', CA_ROOT_CONFIGMAP)?.metadata as { labels: Record<string, string> }).labels;
  assert.equal(labels['app.kubernetes.io/managed-by'], 'skein-cp');
  await sleep(200); // several rounds
  for (const ns of ['default', 'skein-system', 'plain', 'off']) assert.equal(dataIn(api, ns), undefined, `nothing in ${ns}`);
  assert.equal(api.writes.filter((w) => w.resource === 'configmaps').length, 2, 'no rewrite of an unchanged ConfigMap');
});

test('repairs drift: edited data, an added key, and a copy made immutable with other content', async () => {
  const { api, io, ca } = await setup();
  publish(io, ca);
  await until('published', () => dataIn(api, 'shop') !== undefined);
  await io.replaceConfigMap('shop', CA_ROOT_CONFIGMAP, { 'root-cert.pem': 'tampered', 'control-plane-ca.pem': CP_CA }, {}, undefined);
  await until('edited data repaired', () => dataIn(api, 'shop')?.['root-cert.pem'] === expected(ca)['root-cert.pem']);
  await io.replaceConfigMap('shop', CA_ROOT_CONFIGMAP, { ...expected(ca), extra: 'x' }, {}, undefined);
  await until('extra key removed', () => { const d = dataIn(api, 'shop'); return d !== undefined && !('extra' in d); });
  assert.deepEqual(dataIn(api, 'shop'), expected(ca));

  api.store.delete(CONFIG_MAPS, 'legacy', CA_ROOT_CONFIGMAP);
  api.seed(CONFIG_MAPS, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: CA_ROOT_CONFIGMAP, namespace: 'legacy' }, immutable: true, data: { 'root-cert.pem': 'stale' } });
  await until('immutable copy replaced', () => dataIn(api, 'legacy')?.['root-cert.pem'] === expected(ca)['root-cert.pem']);
  assert.notEqual(api.get(CONFIG_MAPS, 'legacy', CA_ROOT_CONFIGMAP)?.immutable, true);
});

test('a change of the trust anchors is published to every namespace', async () => {
  const { api, io, ca } = await setup();
  publish(io, ca);
  await until('published', () => dataIn(api, 'shop') !== undefined && dataIn(api, 'legacy') !== undefined);
  const current = ca.current();
  assert.ok(current);
  const extra = await generateRootCa('cluster.local');
  // Same signer, one more anchor (rotation step 1).
  ca.replace({ ...current, anchorsPem: [...current.anchorsPem, extra.certPem].sort() });
  assert.equal(ca.trustAnchorsPem().length, 2);
  for (const ns of ['shop', 'legacy']) {
    await until(`both roots in ${ns}`, () => dataIn(api, ns)?.['root-cert.pem'] === ca.trustAnchorsPem().join(''));
  }
  assert.ok(dataIn(api, 'shop')?.['root-cert.pem']?.includes(current.signer.toString().trim()), 'the old root stays next to the new one');
});

test('a follower writes nothing; when it becomes leader it publishes', async () => {
  const { api, io, ca } = await setup();
  let leading = false;
  const p = publish(io, ca, () => leading);
  await sleep(200);
  assert.equal(api.writes.filter((w) => w.resource === 'configmaps').length, 0);
  leading = true;
  p.kick();
  await until('published after taking over', () => dataIn(api, 'shop') !== undefined);
});

test('injectedNamespacesOf: labelled namespaces and namespaces of annotated pods, terminating ones left out', () => {
  const got = injectedNamespacesOf(
    [
      { metadata: { name: 'shop', labels: { 'skein.io/inject': 'enabled' } } },
      { metadata: { name: 'off', labels: { 'skein.io/inject': 'disabled' } } },
      { metadata: { name: 'gone', labels: { 'skein.io/inject': 'enabled' } }, status: { phase: 'Terminating' } },
    ],
    [
      { metadata: { namespace: 'legacy', annotations: { 'skein.io/injected': '' } } },
      { metadata: { namespace: 'plain', annotations: { other: 'x' } } },
      { metadata: { namespace: 'gone', annotations: { 'skein.io/injected': '0.1.0' } } },
    ],
  );
  assert.deepEqual(got, ['legacy', 'shop']);
});

test('with the caller\'s own namespace view, a kick publishes in a namespace that just got injected pods', async () => {
  const { api, io, ca } = await setup();
  const injected = ['shop'];
  const p = startCaRootPublisher({
    io, ca, controlPlaneCaPem: () => CP_CA, isLeader: () => true, log: quiet,
    intervalMs: 600_000, injectedNamespaces: async () => injected,
  });
  pubs.push(p);
  await until('published in shop', () => dataIn(api, 'shop') !== undefined);
  assert.equal(dataIn(api, 'legacy'), undefined);
  injected.push('legacy');
  p.kick();
  await until('published in legacy after the kick', () => dataIn(api, 'legacy') !== undefined);
  p.kick();
  await sleep(100);
  assert.equal(api.writes.filter((w) => w.resource === 'configmaps').length, 2, 'a kick rewrites nothing already current');
});
