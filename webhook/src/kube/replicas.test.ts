// Two skein-cp replicas in kubernetes mode against one in-memory API server (testing/memory-api.ts; no real
// one exists on this machine): the real wiring of startKubernetesMode — leader election over the Lease, the
// TLS Secret written by the leader only, the caBundle of skein-injector written at start, both replicas
// serving the same certificate, leadership handed over on shutdown, and a CA replaced on rotation.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { pino } from 'pino';
import { configFromRecord } from '../config/index.js';
import { createCa, issueServing } from '../tls/issue.js';
import { startKubernetesMode, type KubeMode } from './index.js';
import { MemoryApi, type MwcDoc } from './testing/memory-api.js';
import { LEASE_NAME } from './leader.js';
import { TLS_SECRET_NAME, decodeSecretData, encodeSecretData } from './tls-secret.js';
import { WEBHOOK_CONFIGURATION_NAME } from './cabundle.js';

const NS = 'skein-system';
const quiet = pino({ level: 'silent' });
const running: KubeMode[] = [];
after(async () => { for (const m of running) await m.stop(); });

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
async function until(what: string, cond: () => boolean): Promise<void> {
  const deadline = Date.now() + 20_000; // failure guard only
  while (!cond()) {
    if (Date.now() > deadline) assert.fail(`timed out waiting for: ${what}`);
    await sleep(25);
  }
}

function webhookConfig(caBundle?: string): MwcDoc {
  const clientConfig = (): MwcDoc['webhooks'][number]['clientConfig'] => ({ service: { name: 'skein-cp' }, ...(caBundle === undefined ? {} : { caBundle }) });
  return { webhooks: [{ name: 'namespace.inject.skein.io', clientConfig: clientConfig() }, { name: 'object.inject.skein.io', clientConfig: clientConfig() }] };
}

async function replica(api: MemoryApi, name: string): Promise<{ mode: KubeMode; leading: () => boolean; materials: string[] }> {
  const config = configFromRecord({ 'native-sidecar': 'auto' }, { POD_NAME: name, POD_NAMESPACE: NS });
  let leading = false;
  const materials: string[] = [];
  const mode = await startKubernetesMode(config, quiet, {
    onMaterial: (m) => materials.push(m.fingerprint),
    onLeaderChange: (l) => { leading = l; },
  }, api);
  running.push(mode);
  return { mode, leading: () => leading, materials };
}

const bundles = (api: MemoryApi): Array<string | undefined> =>
  (api.webhookConfigs.get(WEBHOOK_CONFIGURATION_NAME)?.webhooks ?? []).map((w) => w.clientConfig?.caBundle);
const secretPems = (api: MemoryApi): ReturnType<typeof decodeSecretData> => decodeSecretData(api.secrets.get(`${NS}/${TLS_SECRET_NAME}`)?.value);

test('two replicas: one leader writes the Secret and the caBundle once, both serve the same certificate; shutdown hands over', async () => {
  const api = new MemoryApi();
  api.webhookConfigs.set(WEBHOOK_CONFIGURATION_NAME, webhookConfig());
  const a = await replica(api, 'skein-cp-a');
  const b = await replica(api, 'skein-cp-b');
  assert.equal(a.mode.nativeSidecarDefault, true, 'API server 1.30: native sidecars by default');

  await until('both replicas have a certificate', () => a.mode.material() !== undefined && b.mode.material() !== undefined);
  assert.equal(a.mode.material()?.fingerprint, b.mode.material()?.fingerprint);
  assert.equal([a.mode.isLeader(), b.mode.isLeader()].filter(Boolean).length, 1, 'exactly one leader');
  assert.equal(api.writes.secret, 1, 'the Secret is written once, by the leader');
  const pems = secretPems(api);
  assert.ok(pems);
  assert.equal(a.mode.material()?.caCertPem, pems.ca.certPem);
  const expected = Buffer.from(pems.ca.certPem).toString('base64');
  assert.deepEqual(bundles(api), [expected, expected], 'caBundle of both webhooks is the CA');
  assert.equal(api.leases.get(`${NS}/${LEASE_NAME}`)?.value.holderIdentity, a.mode.isLeader() ? 'skein-cp-a' : 'skein-cp-b');

  const [leader, follower] = a.mode.isLeader() ? [a, b] : [b, a];
  await leader.mode.stop();
  await until('the follower takes over after the leader released the Lease', () => follower.mode.isLeader() && follower.leading());
  assert.equal(api.leases.get(`${NS}/${LEASE_NAME}`)?.value.holderIdentity, follower === a ? 'skein-cp-a' : 'skein-cp-b');
  assert.equal(api.writes.secret, 1, 'the new leader keeps the valid Secret');
  assert.equal(follower.materials.length, 1, 'no certificate change on handover');
});

test('an expired CA in the Secret is replaced: new Secret, caBundle rewritten before the certificate is served', async () => {
  const api = new MemoryApi({ major: '1', minor: '28' });
  const DAY = 24 * 3600 * 1000;
  const oldCa = createCa(new Date(Date.now() - 20 * DAY), 10);
  api.secrets.set(`${NS}/${TLS_SECRET_NAME}`, { value: encodeSecretData({ ca: oldCa, serving: issueServing(oldCa) }), resourceVersion: '1' });
  api.webhookConfigs.set(WEBHOOK_CONFIGURATION_NAME, webhookConfig(Buffer.from(oldCa.certPem).toString('base64')));
  const a = await replica(api, 'skein-cp-a');
  assert.equal(a.mode.nativeSidecarDefault, false, 'API server 1.28: classic sidecars by default');
  assert.equal(a.mode.nativeSidecarRunToCompletion, false, 'and for Jobs too');
  await until('a certificate', () => a.mode.material() !== undefined);
  const pems = secretPems(api);
  assert.ok(pems);
  assert.notEqual(pems.ca.certPem, oldCa.certPem);
  assert.equal(a.mode.material()?.caCertPem, pems.ca.certPem);
  const expected = Buffer.from(pems.ca.certPem).toString('base64');
  assert.deepEqual(bundles(api), [expected, expected]);
});
