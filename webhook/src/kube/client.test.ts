// kube/client.ts — skein-cp's real client-node calls — against the validating in-memory API server
// (testing/apiserver/) over HTTPS with a kubeconfig: every write skein-cp makes must be accepted as a
// real kube-apiserver accepts it, with no "unknown field" warning, and read back as it was written.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect, statusOf, type KubeIo } from './client.js';
import { caBundlePatch, WEBHOOK_CONFIGURATION_NAME } from './cabundle.js';
import { releaseSpec } from './lease.js';
import { LEASE_NAME } from './leader.js';
import { FakeApiServer } from './testing/apiserver/server.js';
import { applyWebhookConfiguration } from './testing/apiserver/manifests.js';
import { LEASES, MUTATING_WEBHOOK_CONFIGURATIONS, SECRETS } from './testing/apiserver/kinds.js';

const NS = 'skein-system';
let api: FakeApiServer;
let io: KubeIo;
let dir: string;
before(async () => {
  api = await FakeApiServer.start({ version: { major: '1', minor: '28', gitVersion: 'v1.28.15' } });
  dir = await mkdtemp(join(tmpdir(), 'sk-ut-kube-'));
  io = await connect(await api.writeKubeconfig(dir));
});
after(async () => {
  await api.close();
  await rm(dir, { recursive: true, force: true });
});

async function rejection(p: Promise<unknown>): Promise<unknown> {
  return p.then(() => assert.fail('expected the API server to refuse the call'), (e: unknown) => e);
}

test('Lease: create, read back as Dates, renew with the read resourceVersion, stale write → 409, release', async () => {
  const t0 = new Date('2026-12-04T03:13:05.646Z');
  await io.createLease(NS, LEASE_NAME, { holderIdentity: 'a', leaseDurationSeconds: 15, acquireTime: t0, renewTime: t0, leaseTransitions: 0 });
  const stored = api.get(LEASES, NS, LEASE_NAME);
  assert.equal((stored?.spec as { renewTime?: string }).renewTime, '2026-12-04T03:13:05.646000Z', 'six digits on the wire');
  const read = await io.readLease(NS, LEASE_NAME);
  assert.ok(read);
  assert.ok(read.spec.renewTime instanceof Date, 'a MicroTime comes back as a Date, not the JSON string');
  assert.equal(read.spec.renewTime.getTime(), t0.getTime());
  assert.equal(read.spec.acquireTime?.getTime(), t0.getTime());
  assert.deepEqual({ ...read.spec, acquireTime: undefined, renewTime: undefined }, { holderIdentity: 'a', leaseDurationSeconds: 15, acquireTime: undefined, renewTime: undefined, leaseTransitions: 0 });

  const t1 = new Date(t0.getTime() + 2_000);
  await io.replaceLease(NS, LEASE_NAME, { ...read.spec, renewTime: t1 }, read.resourceVersion);
  const renewed = await io.readLease(NS, LEASE_NAME);
  assert.equal(renewed?.spec.renewTime?.getTime(), t1.getTime());
  assert.notEqual(renewed?.resourceVersion, read.resourceVersion);

  const stale = await rejection(io.replaceLease(NS, LEASE_NAME, { ...read.spec, holderIdentity: 'b' }, read.resourceVersion));
  assert.equal(statusOf(stale), 409, 'the loser of a race sees Conflict');
  const unconditional = await rejection(io.replaceLease(NS, LEASE_NAME, read.spec, undefined));
  assert.equal(statusOf(unconditional), 422, 'a Lease update without resourceVersion is refused');

  await io.replaceLease(NS, LEASE_NAME, releaseSpec(renewed?.spec ?? {}), renewed?.resourceVersion);
  const released = await io.readLease(NS, LEASE_NAME);
  assert.equal(released?.spec.holderIdentity, '');
  assert.equal(released?.spec.renewTime, undefined);
  assert.equal(await io.readLease(NS, 'absent'), undefined, '404 reads as undefined');
});

test('TLS Secret: create, read, replace with the read resourceVersion; a stale replace → 409', async () => {
  const data = { 'tls.crt': Buffer.from('crt').toString('base64'), 'tls.key': Buffer.from('key').toString('base64'), 'ca.crt': 'Y2E=', 'ca.key': 'Y2FrZXk=' };
  await io.createSecret(NS, 'skein-webhook-tls', 'kubernetes.io/tls', data);
  const read = await io.readSecret(NS, 'skein-webhook-tls');
  assert.deepEqual(read?.data, data);
  const again = await rejection(io.createSecret(NS, 'skein-webhook-tls', 'kubernetes.io/tls', data));
  assert.equal(statusOf(again), 409);
  await io.replaceSecret(NS, 'skein-webhook-tls', 'kubernetes.io/tls', { ...data, 'ca.crt': 'Y2Ey' }, read?.resourceVersion);
  const stale = await rejection(io.replaceSecret(NS, 'skein-webhook-tls', 'kubernetes.io/tls', data, read?.resourceVersion));
  assert.equal(statusOf(stale), 409);
  const labels = (api.get(SECRETS, NS, 'skein-webhook-tls')?.metadata as { labels?: unknown }).labels;
  assert.deepEqual(labels, { 'app.kubernetes.io/name': 'skein-cp', 'app.kubernetes.io/part-of': 'skein' });
  assert.equal(await io.readSecret(NS, 'absent'), undefined);
});

test('caBundle: the JSON patch of cabundle.ts applies to the shipped MutatingWebhookConfiguration; a second one is empty', async () => {
  await applyWebhookConfiguration(api);
  const ca = '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n';
  const webhooks = await io.readWebhooks(WEBHOOK_CONFIGURATION_NAME);
  assert.equal(webhooks?.length, 2);
  await io.patchWebhooks(WEBHOOK_CONFIGURATION_NAME, caBundlePatch(webhooks, ca));
  const after = await io.readWebhooks(WEBHOOK_CONFIGURATION_NAME);
  const b64 = Buffer.from(ca).toString('base64');
  assert.deepEqual(after?.map((w) => w.clientConfig?.caBundle), [b64, b64]);
  assert.deepEqual(caBundlePatch(after, ca), []);
  const stored = api.get(MUTATING_WEBHOOK_CONFIGURATIONS, '', WEBHOOK_CONFIGURATION_NAME);
  assert.equal((stored?.metadata as { generation?: number }).generation, 2);
  assert.equal(await io.readWebhooks('absent'), undefined);
});

test('GET /version; and none of the writes above drew an "unknown field" warning', async () => {
  assert.deepEqual(await io.serverVersion().then((v) => ({ major: v.major, minor: v.minor })), { major: '1', minor: '28' });
  assert.deepEqual(api.warnings, []);
});
