// Two skein-cp replicas in kubernetes mode against one validating in-memory API server
// (testing/apiserver/, over HTTPS; no real one exists on this machine), each connected through a
// kubeconfig exactly as `skein-cp --kubeconfig` connects: the real wiring of startKubernetesMode and the
// real client-node calls — leader election over the Lease, the TLS Secret written by the leader only, the
// caBundle of the shipped skein-injector written at start, both replicas serving the same certificate,
// leadership handed over on shutdown, and a CA replaced on rotation. Every write must pass the server's
// validation (MicroTime format, resourceVersions, schema) without an "unknown field" warning.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { configFromRecord } from '../config/index.js';
import { createCa, issueServing } from '../tls/issue.js';
import { startKubernetesMode, type KubeMode } from './index.js';
import { FakeApiServer, type FakeApiServerOptions } from './testing/apiserver/server.js';
import { webhookConfigurationManifest } from './testing/apiserver/manifests.js';
import { LEASES, MUTATING_WEBHOOK_CONFIGURATIONS, SECRETS } from './testing/apiserver/kinds.js';
import { LEASE_NAME } from './leader.js';
import { TLS_SECRET_NAME, SECRET_TYPE, decodeSecretData, encodeSecretData } from './tls-secret.js';
import { WEBHOOK_CONFIGURATION_NAME } from './cabundle.js';

const NS = 'skein-system';
const quiet = pino({ level: 'silent' });
const running: KubeMode[] = [];
const servers: FakeApiServer[] = [];
const dirs: string[] = [];
after(async () => {
  for (const m of running) await m.stop();
  for (const s of servers) await s.close();
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
async function until(what: string, cond: () => boolean): Promise<void> {
  const deadline = Date.now() + 20_000; // failure guard only
  while (!cond()) {
    if (Date.now() > deadline) assert.fail(`timed out waiting for: ${what}`);
    await sleep(25);
  }
}

/** A cluster after `kubectl apply -k manifests/`: the shipped webhook configuration, optionally with a caBundle. */
async function cluster(opts: FakeApiServerOptions, caBundle?: string): Promise<{ api: FakeApiServer; kubeconfig: string }> {
  const api = await FakeApiServer.start(opts);
  servers.push(api);
  const mwc = await webhookConfigurationManifest();
  if (caBundle !== undefined) {
    for (const w of mwc.webhooks as Array<{ clientConfig: Record<string, unknown> }>) w.clientConfig.caBundle = caBundle;
  }
  api.seed(MUTATING_WEBHOOK_CONFIGURATIONS, mwc);
  const dir = await mkdtemp(join(tmpdir(), 'sk-ut-replicas-'));
  dirs.push(dir);
  return { api, kubeconfig: await api.writeKubeconfig(dir) };
}

async function replica(kubeconfig: string, name: string): Promise<{ mode: KubeMode; leading: () => boolean; materials: string[] }> {
  const config = configFromRecord({ 'native-sidecar': 'auto', kubeconfig }, { POD_NAME: name, POD_NAMESPACE: NS });
  let leading = false;
  const materials: string[] = [];
  const mode = await startKubernetesMode(config, quiet, {
    onMaterial: (m) => materials.push(m.fingerprint),
    onLeaderChange: (l) => { leading = l; },
  });
  running.push(mode);
  return { mode, leading: () => leading, materials };
}

const bundles = (api: FakeApiServer): Array<string | undefined> =>
  ((api.get(MUTATING_WEBHOOK_CONFIGURATIONS, '', WEBHOOK_CONFIGURATION_NAME)?.webhooks ?? []) as Array<{ clientConfig?: { caBundle?: string } }>)
    .map((w) => w.clientConfig?.caBundle);
const secretPems = (api: FakeApiServer): ReturnType<typeof decodeSecretData> =>
  decodeSecretData(api.get(SECRETS, NS, TLS_SECRET_NAME)?.data as Record<string, string> | undefined);
const secretWrites = (api: FakeApiServer): number => api.writes.filter((w) => w.resource === 'secrets').length;
const holder = (api: FakeApiServer): unknown => (api.get(LEASES, NS, LEASE_NAME)?.spec as { holderIdentity?: string } | undefined)?.holderIdentity;

test('two replicas: one leader writes the Secret and the caBundle once, both serve the same certificate; shutdown hands over', async () => {
  const { api, kubeconfig } = await cluster({ version: { major: '1', minor: '32', gitVersion: 'v1.32.13' } });
  const a = await replica(kubeconfig, 'skein-cp-a');
  const b = await replica(kubeconfig, 'skein-cp-b');
  assert.equal(a.mode.nativeSidecarDefault, true, 'API server 1.32: native sidecars by default');

  await until('both replicas have a certificate', () => a.mode.material() !== undefined && b.mode.material() !== undefined);
  assert.equal(a.mode.material()?.fingerprint, b.mode.material()?.fingerprint);
  assert.equal([a.mode.isLeader(), b.mode.isLeader()].filter(Boolean).length, 1, 'exactly one leader');
  assert.equal(secretWrites(api), 1, 'the Secret is written once, by the leader');
  const pems = secretPems(api);
  assert.ok(pems);
  assert.equal(a.mode.material()?.caCertPem, pems.ca.certPem);
  const expected = Buffer.from(pems.ca.certPem).toString('base64');
  assert.deepEqual(bundles(api), [expected, expected], 'caBundle of both webhooks is the CA');
  assert.equal(holder(api), a.mode.isLeader() ? 'skein-cp-a' : 'skein-cp-b');

  const [leader, follower] = a.mode.isLeader() ? [a, b] : [b, a];
  await leader.mode.stop();
  await until('the follower takes over after the leader released the Lease', () => follower.mode.isLeader() && follower.leading());
  assert.equal(holder(api), follower === a ? 'skein-cp-a' : 'skein-cp-b');
  assert.equal((api.get(LEASES, NS, LEASE_NAME)?.spec as { leaseTransitions?: number }).leaseTransitions, 1);
  assert.match(String((api.get(LEASES, NS, LEASE_NAME)?.spec as { renewTime?: string }).renewTime), /\.\d{6}Z$/);
  assert.equal(secretWrites(api), 1, 'the new leader keeps the valid Secret');
  assert.equal(follower.materials.length, 1, 'no certificate change on handover');
  assert.deepEqual(api.warnings, [], 'no write carried an unknown field');
});

test('an expired CA in the Secret is replaced: new Secret, caBundle rewritten before the certificate is served', async () => {
  const DAY = 24 * 3600 * 1000;
  const oldCa = createCa(new Date(Date.now() - 20 * DAY), 10);
  const { api, kubeconfig } = await cluster({ version: { major: '1', minor: '28', gitVersion: 'v1.28.15' } }, Buffer.from(oldCa.certPem).toString('base64'));
  api.seed(SECRETS, {
    apiVersion: 'v1', kind: 'Secret', metadata: { name: TLS_SECRET_NAME, namespace: NS }, type: SECRET_TYPE,
    data: encodeSecretData({ ca: oldCa, serving: issueServing(oldCa) }),
  });
  const a = await replica(kubeconfig, 'skein-cp-a');
  assert.equal(a.mode.nativeSidecarDefault, false, 'API server 1.28: classic sidecars by default');
  assert.equal(a.mode.nativeSidecarRunToCompletion, false, 'and for Jobs too');
  await until('a certificate', () => a.mode.material() !== undefined);
  const pems = secretPems(api);
  assert.ok(pems);
  assert.notEqual(pems.ca.certPem, oldCa.certPem);
  assert.equal(a.mode.material()?.caCertPem, pems.ca.certPem);
  const expected = Buffer.from(pems.ca.certPem).toString('base64');
  assert.deepEqual(bundles(api), [expected, expected]);
  assert.deepEqual(api.warnings, []);
});
