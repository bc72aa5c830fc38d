// ConfigMaps as kube-apiserver serves them (validate-configmap.ts, kinds-configmap.ts): config-map keys,
// the 1 MiB total, data/binaryData overlap, immutable, unconditional PUT, no create on PUT.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { FakeApiServer } from './server.js';
import { raw } from './raw-client.js';

let api: FakeApiServer;
before(async () => { api = await FakeApiServer.start(); });
after(async () => { await api.close(); });

const PATH = '/api/v1/namespaces/default/configmaps';
let n = 0;
const fresh = (): string => `cm-${++n}`;
const cm = (name: string, extra: Record<string, unknown> = {}): Record<string, unknown> => ({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name }, ...extra });
const message = (b: Record<string, unknown>): string => String(b.message);

test('a ConfigMap is created and read back as written (data strings, binaryData base64), with no warning', async () => {
  const name = fresh();
  const r = await raw(api, 'POST', PATH, cm(name, { data: { 'root-cert.pem': 'PEM\n' }, binaryData: { 'blob.bin': Buffer.from([0, 255]).toString('base64') } }));
  assert.equal(r.status, 201, JSON.stringify(r.body));
  assert.deepEqual(r.warnings, []);
  const got = await raw(api, 'GET', `${PATH}/${name}`);
  assert.deepEqual(got.body.data, { 'root-cert.pem': 'PEM\n' });
  assert.deepEqual(got.body.binaryData, { 'blob.bin': 'AP8=' });
  const again = await raw(api, 'POST', PATH, cm(name));
  assert.equal(again.status, 409);
  assert.equal(again.body.reason, 'AlreadyExists');
});

test('keys must be config-map keys and may not be in both data and binaryData (422 Invalid, ValidateConfigMap)', async () => {
  const name = fresh();
  const r = await raw(api, 'POST', PATH, cm(name, { data: { 'a/b': 'x', dup: 'y' }, binaryData: { dup: 'eQ==' } }));
  assert.equal(r.status, 422);
  assert.equal(r.body.reason, 'Invalid');
  assert.match(message(r.body), /data\[a\/b\]: Invalid value: "a\/b": a valid config key must consist of alphanumeric characters, '-', '_' or '\.'/);
  assert.match(message(r.body), /data\[dup\]: Invalid value: "dup": duplicate of key present in binaryData/);
});

test('more than 1 MiB of values in total is refused on the whole object (field path "")', async () => {
  const half = 'x'.repeat(600 * 1024);
  const r = await raw(api, 'POST', PATH, cm(fresh(), { data: { a: half, b: half } }));
  assert.equal(r.status, 422);
  assert.match(message(r.body), /: Too long: must have at most 1048576 bytes/);
  const ok = await raw(api, 'POST', PATH, cm(fresh(), { data: { a: half } }));
  assert.equal(ok.status, 201);
});

test('immutable: data and binaryData frozen, immutable cannot be unset; metadata may still change; a mutable one updates without resourceVersion', async () => {
  const name = fresh();
  assert.equal((await raw(api, 'POST', PATH, cm(name, { immutable: true, data: { k: 'v' } }))).status, 201);
  const change = await raw(api, 'PUT', `${PATH}/${name}`, cm(name, { immutable: true, data: { k: 'w' } }));
  assert.equal(change.status, 422);
  assert.match(message(change.body), /data: Forbidden: field is immutable when `immutable` is set/);
  const unset = await raw(api, 'PUT', `${PATH}/${name}`, cm(name, { immutable: false, data: { k: 'v' } }));
  assert.equal(unset.status, 422);
  assert.match(message(unset.body), /immutable: Forbidden: field is immutable when `immutable` is set/);
  const labels = await raw(api, 'PUT', `${PATH}/${name}`, { ...cm(name, { immutable: true, data: { k: 'v' } }), metadata: { name, labels: { a: 'b' } } });
  assert.equal(labels.status, 200, JSON.stringify(labels.body));

  const mutable = fresh();
  assert.equal((await raw(api, 'POST', PATH, cm(mutable, { data: { k: 'v' } }))).status, 201);
  const put = await raw(api, 'PUT', `${PATH}/${mutable}`, cm(mutable, { data: { k: 'w' } }));
  assert.equal(put.status, 200, 'AllowUnconditionalUpdate: no resourceVersion needed');
  const stale = await raw(api, 'PUT', `${PATH}/${mutable}`, { ...cm(mutable, { data: { k: 'z' } }), metadata: { name: mutable, resourceVersion: '1' } });
  assert.equal(stale.status, 409);
  const missing = await raw(api, 'PUT', `${PATH}/${fresh()}`, cm('x'));
  assert.equal(missing.status, 400, 'the body names another object');
  const absent = fresh();
  const noCreate = await raw(api, 'PUT', `${PATH}/${absent}`, cm(absent, { data: {} }));
  assert.equal(noCreate.status, 404, 'AllowCreateOnUpdate is false for ConfigMaps');
});

test('an unknown field is a warning (fieldValidation Warn by default)', async () => {
  const r = await raw(api, 'POST', PATH, cm(fresh(), { data: {}, spec: { x: 1 } }));
  assert.equal(r.status, 201);
  assert.deepEqual(r.warnings.map((w) => w.includes('unknown field \\"spec\\"') || w.includes('unknown field "spec"')), [true]);
});
