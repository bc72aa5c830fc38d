// The in-memory API server refuses what a real kube-apiserver refuses, with the same Status, for the
// objects skein-cp writes. Each case names the real function it models (see the modules' headers).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import * as k8s from '@kubernetes/client-node';
import { FakeApiServer } from './server.js';
import { raw } from './raw-client.js';
import { applyWebhookConfiguration } from './manifests.js';
import { LEASES, MUTATING_WEBHOOK_CONFIGURATIONS, SECRETS } from './kinds.js';

let api: FakeApiServer;
before(async () => { api = await FakeApiServer.start(); });
after(async () => { await api.close(); });

const LEASES_PATH = '/apis/coordination.k8s.io/v1/namespaces/skein-system/leases';
const SECRETS_PATH = '/api/v1/namespaces/skein-system/secrets';
const MWC_PATH = '/apis/admissionregistration.k8s.io/v1/mutatingwebhookconfigurations';
let n = 0;
const fresh = (prefix: string): string => `${prefix}-${++n}`;
const lease = (name: string, spec: Record<string, unknown> = {}, meta: Record<string, unknown> = {}): Record<string, unknown> => ({
  apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', metadata: { name, ...meta },
  spec: { holderIdentity: 'a', leaseDurationSeconds: 15, renewTime: '2026-12-04T03:13:05.646000Z', ...spec },
});
const rvOf = (o: Record<string, unknown>): string => String((o.metadata as { resourceVersion?: string }).resourceVersion);

function coordination(): k8s.CoordinationV1Api {
  const kc = new k8s.KubeConfig();
  kc.loadFromString(api.kubeconfig());
  return kc.makeApiClient(k8s.CoordinationV1Api);
}

test('regression (issue 6): a Lease written by client-node with plain Dates is refused 400, as kube-apiserver 1.28/1.32 did', async () => {
  const now = new Date('2026-12-04T03:13:05.646Z');
  const err = await coordination().createNamespacedLease({
    namespace: 'skein-system',
    body: { metadata: { name: fresh('three-digits') }, spec: { holderIdentity: 'a', leaseDurationSeconds: 15, acquireTime: now, renewTime: now } },
  }).then(() => undefined, (e: unknown) => e as k8s.ApiException<unknown>);
  assert.ok(err, 'the write must fail');
  assert.equal(err.code, 400);
  // client-node hands the error body over as text: the Status JSON.
  const status = JSON.parse(String(err.body)) as { kind: string; reason: string; message: string };
  assert.equal(status.kind, 'Status');
  assert.equal(status.reason, 'BadRequest');
  assert.equal(status.message, 'Lease in version "v1" cannot be handled as a Lease: parsing time "2026-12-04T03:13:05.646Z" as "2006-01-02T15:04:05.000000Z07:00": cannot parse ".646Z" as ".000000"');
});

test('a MicroTime with six digits is stored and served in UTC with six digits', async () => {
  const r = await raw(api, 'POST', LEASES_PATH, lease(fresh('micro'), { acquireTime: '2026-12-04T05:13:05.000001+02:00' }));
  assert.equal(r.status, 201, JSON.stringify(r.body));
  const spec = r.body.spec as Record<string, unknown>;
  assert.equal(spec.acquireTime, '2026-12-04T03:13:05.000001Z');
  assert.equal(spec.renewTime, '2026-12-04T03:13:05.646000Z');
  const meta = r.body.metadata as Record<string, unknown>;
  assert.match(String(meta.creationTimestamp), /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/, 'metav1.Time: whole seconds');
  assert.match(String(meta.uid), /^[0-9a-f-]{36}$/);
  assert.equal(meta.namespace, 'skein-system', 'namespace filled from the URL');
});

test('Lease updates: no resourceVersion → 422, stale → 409 Conflict, current → 200 and a new version; a no-op keeps it', async () => {
  const name = fresh('rv');
  const created = await raw(api, 'POST', LEASES_PATH, lease(name));
  const rv = rvOf(created.body);
  const noRv = await raw(api, 'PUT', `${LEASES_PATH}/${name}`, lease(name));
  assert.equal(noRv.status, 422);
  assert.equal(noRv.body.reason, 'Invalid');
  assert.equal(noRv.body.message, `leases.coordination.k8s.io "${name}" is invalid: metadata.resourceVersion: Invalid value: 0x0: must be specified for an update`);
  const ok = await raw(api, 'PUT', `${LEASES_PATH}/${name}`, lease(name, { holderIdentity: 'b' }, { resourceVersion: rv }));
  assert.equal(ok.status, 200);
  assert.notEqual(rvOf(ok.body), rv);
  const stale = await raw(api, 'PUT', `${LEASES_PATH}/${name}`, lease(name, { holderIdentity: 'c' }, { resourceVersion: rv }));
  assert.equal(stale.status, 409);
  assert.equal(stale.body.reason, 'Conflict');
  assert.equal(stale.body.message, `Operation cannot be fulfilled on leases.coordination.k8s.io "${name}": the object has been modified; please apply your changes to the latest version and try again`);
  assert.deepEqual(stale.body.details, { name, group: 'coordination.k8s.io', kind: 'leases' });
  const same = await raw(api, 'PUT', `${LEASES_PATH}/${name}`, lease(name, { holderIdentity: 'b' }, { resourceVersion: rvOf(ok.body) }));
  assert.equal(same.status, 200);
  assert.equal(rvOf(same.body), rvOf(ok.body), 'nothing changed, nothing written');
  const created2 = await raw(api, 'PUT', `${LEASES_PATH}/${fresh('put-create')}`, lease(`put-create-${n}`));
  assert.equal(created2.status, 201, 'leases allow create on update');
});

test('404 NotFound and 409 AlreadyExists carry the real Status', async () => {
  const missing = await raw(api, 'GET', `${LEASES_PATH}/nope`);
  assert.deepEqual(missing.body, {
    kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message: 'leases.coordination.k8s.io "nope" not found',
    reason: 'NotFound', details: { name: 'nope', group: 'coordination.k8s.io', kind: 'leases' }, code: 404,
  });
  assert.equal(missing.status, 404);
  assert.equal((await raw(api, 'PUT', `${SECRETS_PATH}/nope`, { metadata: { name: 'nope' } })).status, 404, 'secrets do not allow create on update');
  const name = fresh('dup');
  assert.equal((await raw(api, 'POST', LEASES_PATH, lease(name))).status, 201);
  const dup = await raw(api, 'POST', LEASES_PATH, lease(name));
  assert.equal(dup.status, 409);
  assert.equal(dup.body.reason, 'AlreadyExists');
  assert.equal(dup.body.message, `leases.coordination.k8s.io "${name}" already exists`);
  const withRv = await raw(api, 'POST', LEASES_PATH, lease(fresh('rv-on-create'), {}, { resourceVersion: '5' }));
  assert.equal(withRv.status, 500);
  assert.match(String(withRv.body.message), /resourceVersion should not be set on objects to be created/);
});

test('required fields and names: metadata.name, a DNS subdomain name, an existing namespace that matches the URL', async () => {
  const noName = await raw(api, 'POST', LEASES_PATH, { spec: {} });
  assert.equal(noName.status, 422);
  assert.equal(noName.body.message, 'Lease.coordination.k8s.io "" is invalid: metadata.name: Required value: name or generateName is required');
  assert.deepEqual((noName.body.details as { causes: unknown }).causes, [{ reason: 'FieldValueRequired', message: 'Required value: name or generateName is required', field: 'metadata.name' }]);
  const badName = await raw(api, 'POST', LEASES_PATH, lease('Skein_CP'));
  assert.equal(badName.status, 422);
  assert.match(String(badName.body.message), /metadata\.name: Invalid value: "Skein_CP": a lowercase RFC 1123 subdomain must consist of/);
  const otherNs = await raw(api, 'POST', LEASES_PATH, lease(fresh('ns'), {}, { namespace: 'default' }));
  assert.equal(otherNs.status, 400);
  assert.equal(otherNs.body.message, 'the namespace of the provided object does not match the namespace sent on the request');
  const noNs = await raw(api, 'POST', '/apis/coordination.k8s.io/v1/namespaces/nope/leases', lease(fresh('ns')));
  assert.equal(noNs.status, 404);
  assert.equal(noNs.body.message, 'namespaces "nope" not found');
  const urlName = await raw(api, 'PUT', `${LEASES_PATH}/one`, lease('other'));
  assert.equal(urlName.status, 400);
  assert.equal(urlName.body.message, 'the name of the object (other) does not match the name on the URL (one)');
  const badLabel = await raw(api, 'POST', LEASES_PATH, lease(fresh('label'), {}, { labels: { 'app.kubernetes.io/name': 'not ok' } }));
  assert.equal(badLabel.status, 422);
  assert.match(String(badLabel.body.message), /metadata\.labels\[app\.kubernetes\.io\/name\]: Invalid value: "not ok"/);
});

test('the kind\'s schema: field types, int32 range, values, apiVersion/kind matching the URL', async () => {
  const str = await raw(api, 'POST', LEASES_PATH, lease(fresh('t'), { leaseDurationSeconds: '15' }));
  assert.equal(str.status, 400);
  assert.equal(str.body.message, 'Lease in version "v1" cannot be handled as a Lease: json: cannot unmarshal string into Go struct field LeaseSpec.spec.leaseDurationSeconds of type int32');
  const big = await raw(api, 'POST', LEASES_PATH, lease(fresh('t'), { leaseTransitions: 2 ** 31 }));
  assert.equal(big.status, 400);
  assert.match(String(big.body.message), /cannot unmarshal number 2147483648 into Go struct field LeaseSpec\.spec\.leaseTransitions of type int32/);
  const holder = await raw(api, 'POST', LEASES_PATH, lease(fresh('t'), { holderIdentity: 7 }));
  assert.equal(holder.status, 400);
  assert.match(String(holder.body.message), /cannot unmarshal number into Go struct field LeaseSpec\.spec\.holderIdentity of type string/);
  const zero = await raw(api, 'POST', LEASES_PATH, lease(fresh('t'), { leaseDurationSeconds: 0 }));
  assert.equal(zero.status, 422);
  assert.match(String(zero.body.message), /spec\.leaseDurationSeconds: Invalid value: 0: must be greater than 0/);
  const kind = await raw(api, 'POST', LEASES_PATH, { ...lease(fresh('t')), kind: 'Secret' });
  assert.equal(kind.status, 400);
  assert.match(String(kind.body.message), /^Secret in version "v1" cannot be handled as a Lease: no kind "Secret" is registered/);
  const version = await raw(api, 'POST', LEASES_PATH, { ...lease(fresh('t')), apiVersion: 'coordination.k8s.io/v1beta1' });
  assert.equal(version.status, 400);
  assert.equal(version.body.message, 'the API version in the data (coordination.k8s.io/v1beta1) does not match the expected API version (coordination.k8s.io/v1)');
  const yaml = await raw(api, 'POST', LEASES_PATH, 'metadata: {name: x}', { contentType: 'text/plain' });
  assert.equal(yaml.status, 415);
});

test('unknown fields (wrong case included): a Warning by default and dropped; 400 with fieldValidation=Strict', async () => {
  const name = fresh('unknown');
  const body = lease(name, { HolderIdentity: 'x', renewtime: 'whatever' });
  const warned = await raw(api, 'POST', LEASES_PATH, body);
  assert.equal(warned.status, 201);
  assert.match(warned.warnings.join(','), /299 - "unknown field \\"spec.HolderIdentity\\""/);
  assert.equal((warned.body.spec as Record<string, unknown>).HolderIdentity, undefined);
  const strict = await raw(api, 'POST', `${LEASES_PATH}?fieldValidation=Strict`, lease(fresh('unknown'), { HolderIdentity: 'x' }));
  assert.equal(strict.status, 400);
  assert.equal(strict.body.message, 'Lease in version "v1" cannot be handled as a Lease: strict decoding error: unknown field "spec.HolderIdentity"');
  const badParam = await raw(api, 'POST', `${LEASES_PATH}?fieldValidation=strict`, lease(fresh('unknown')));
  assert.equal(badParam.status, 422);
});

test('Secret: base64 data, keys, the kubernetes.io/tls required keys, type immutable, unconditional update allowed', async () => {
  const secret = (name: string, data: Record<string, unknown>, extra: Record<string, unknown> = {}): Record<string, unknown> =>
    ({ apiVersion: 'v1', kind: 'Secret', metadata: { name }, type: 'kubernetes.io/tls', data, ...extra });
  const tls = { 'tls.crt': Buffer.from('crt').toString('base64'), 'tls.key': Buffer.from('key').toString('base64') };
  const notB64 = await raw(api, 'POST', SECRETS_PATH, secret(fresh('s'), { ...tls, 'ca.crt': '-----BEGIN CERTIFICATE-----' }));
  assert.equal(notB64.status, 400);
  assert.equal(notB64.body.message, 'Secret in version "v1" cannot be handled as a Secret: illegal base64 data at input byte 0');
  const missingKey = await raw(api, 'POST', SECRETS_PATH, secret(fresh('s'), { 'tls.crt': tls['tls.crt'] }));
  assert.equal(missingKey.status, 422);
  assert.match(String(missingKey.body.message), /^Secret "s-\d+" is invalid: data\[tls\.key\]: Required value$/);
  const badKey = await raw(api, 'POST', SECRETS_PATH, secret(fresh('s'), { ...tls, 'a/b': 'eA==' }));
  assert.equal(badKey.status, 422);
  assert.match(String(badKey.body.message), /data\[a\/b\]: Invalid value: "a\/b": a valid config key must consist of alphanumeric characters/);
  const tooBig = await raw(api, 'POST', SECRETS_PATH, secret(fresh('s'), { ...tls, big: Buffer.alloc(1024 * 1024 + 1).toString('base64') }));
  assert.equal(tooBig.status, 422);
  assert.match(String(tooBig.body.message), /data: Too long: must have at most 1048576 bytes/);
  const name = fresh('s');
  assert.equal((await raw(api, 'POST', SECRETS_PATH, secret(name, tls))).status, 201);
  const unconditional = await raw(api, 'PUT', `${SECRETS_PATH}/${name}`, secret(name, { ...tls, 'ca.crt': 'Y2E=' }));
  assert.equal(unconditional.status, 200, 'secrets allow an update without resourceVersion');
  const retype = await raw(api, 'PUT', `${SECRETS_PATH}/${name}`, secret(name, tls, { type: 'Opaque' }));
  assert.equal(retype.status, 422);
  assert.match(String(retype.body.message), /type: Invalid value: "Opaque": field is immutable/);
  const stale = await raw(api, 'PUT', `${SECRETS_PATH}/${name}`, secret(name, tls, { metadata: { name, resourceVersion: '1' } }));
  assert.equal(stale.status, 409);
  const viaString = await raw(api, 'POST', SECRETS_PATH, { metadata: { name: fresh('s') }, stringData: { a: 'b' } });
  assert.equal(viaString.status, 201);
  assert.deepEqual(viaString.body.data, { a: 'Yg==' });
  assert.equal(viaString.body.type, 'Opaque');
  assert.ok(api.get(SECRETS, 'skein-system', name));
});

test('MutatingWebhookConfiguration from manifests/: valid as shipped; JSON patch test ops, caBundle base64, generation', async () => {
  const created = await applyWebhookConfiguration(api);
  assert.equal((created.metadata as { generation?: number }).generation, 1);
  const path = `${MWC_PATH}/skein-injector`;
  const bundle = Buffer.from('-----BEGIN CERTIFICATE-----\n').toString('base64');
  const jsonPatch = { contentType: 'application/json-patch+json' };
  const wrongName = await raw(api, 'PATCH', path, [{ op: 'test', path: '/webhooks/0/name', value: 'other.inject.skein.io' }, { op: 'add', path: '/webhooks/0/clientConfig/caBundle', value: bundle }], jsonPatch);
  assert.equal(wrongName.status, 422);
  assert.equal(wrongName.body.message, 'testing value /webhooks/0/name failed: test failed');
  const notB64 = await raw(api, 'PATCH', path, [{ op: 'add', path: '/webhooks/0/clientConfig/caBundle', value: '-----BEGIN' }], jsonPatch);
  assert.equal(notB64.status, 422);
  assert.match(String(notB64.body.message), /patch: Invalid value: .*illegal base64 data at input byte 0/);
  const ok = await raw(api, 'PATCH', path, [{ op: 'test', path: '/webhooks/0/name', value: 'namespace.inject.skein.io' }, { op: 'add', path: '/webhooks/0/clientConfig/caBundle', value: bundle }], jsonPatch);
  assert.equal(ok.status, 200, JSON.stringify(ok.body));
  assert.equal((ok.body.metadata as { generation?: number }).generation, 2, 'webhooks changed: generation + 1');
  const again = await raw(api, 'PATCH', path, [{ op: 'replace', path: '/webhooks/0/clientConfig/caBundle', value: bundle }], jsonPatch);
  assert.equal(rvOf(again.body), rvOf(ok.body), 'the same bundle again writes nothing');
  const bad = await raw(api, 'PATCH', path, [{ op: 'remove', path: '/webhooks/0/sideEffects' }], jsonPatch);
  assert.equal(bad.status, 422);
  assert.match(String(bad.body.message), /webhooks\[0\]\.sideEffects: Required value/);
  const merge = await raw(api, 'PATCH', path, { metadata: { labels: { extra: 'yes' } } }, { contentType: 'application/merge-patch+json' });
  assert.equal(merge.status, 200);
  assert.equal((await raw(api, 'PATCH', path, [], { contentType: 'application/json' })).status, 415);
  assert.equal(api.get(MUTATING_WEBHOOK_CONFIGURATIONS, '', 'skein-injector')?.kind, 'MutatingWebhookConfiguration');
});

test('authentication: no or a wrong bearer token → 401 Unauthorized', async () => {
  assert.equal((await raw(api, 'GET', `${LEASES_PATH}/x`, undefined, { token: null })).status, 401);
  const wrong = await raw(api, 'GET', '/version', undefined, { token: 'nope' });
  assert.equal(wrong.status, 401);
  assert.equal(wrong.body.reason, 'Unauthorized');
  assert.ok(api.get(LEASES, 'skein-system', 'nope') === undefined);
});
