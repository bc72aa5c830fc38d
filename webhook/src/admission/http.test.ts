// The admission endpoint under bad input (reliability.md W1-W3, W6): every malformed request gets the right
// status and a JSON error without a stack trace, is counted and logged, and the server keeps answering.
import assert from 'node:assert/strict';
import { gzipSync } from 'node:zlib';
import { after, before, describe, test } from 'node:test';
import { defaultInjectorConfig } from '../injector/index.js';
import { MAX_BODY_BYTES } from './index.js';
import { admissionReview, send, startTestServer, type HttpReply, type TestServer } from './testing/server.js';

const pod = (name: string, extra: Record<string, unknown> = {}): Record<string, unknown> => ({
  apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: 'shop' },
  spec: { containers: [{ name: 'app', image: 'example/app:1', ports: [{ containerPort: 8080 }] }] }, ...extra,
});

function errorOf(reply: HttpReply): { code: string; message: string } {
  assert.match(String(reply.headers['content-type']), /^application\/json/);
  assert.doesNotMatch(reply.body, /\bat .+\.js:\d+|node:internal/, 'stack trace leaked');
  const body = JSON.parse(reply.body) as { error: { code: string; message: string } };
  assert.equal(typeof body.error.code, 'string');
  assert.equal(typeof body.error.message, 'string');
  return body.error;
}

describe('POST /inject with bad input', () => {
  let srv: TestServer;
  before(async () => { srv = await startTestServer(defaultInjectorConfig('0.0.0-test')); });
  after(async () => { await srv?.close(); });

  async function expectError(reply: Promise<HttpReply>, status: number, code: string): Promise<void> {
    const r = await reply;
    assert.equal(r.status, status, r.body);
    assert.equal(errorOf(r).code, code);
  }

  test('wrong or missing Content-Type → 415', async () => {
    const { body } = admissionReview({ object: pod('a') });
    await expectError(send(srv, body, { headers: { 'content-type': 'text/plain' } }), 415, 'UnsupportedMediaType');
    await expectError(send(srv, body, { headers: { 'content-type': 'application/yaml' } }), 415, 'UnsupportedMediaType');
    await expectError(send(srv, body, { headers: { 'content-type': '' } }), 415, 'UnsupportedMediaType');
  });

  test('compressed body → 415 (a zip bomb must not get past the size cap)', async () => {
    const { body } = admissionReview({ object: pod('a') });
    await expectError(send(srv, gzipSync(body), { headers: { 'content-encoding': 'gzip' } }), 415, 'UnsupportedEncoding');
  });

  test('empty, garbage and non-object bodies → 400', async () => {
    await expectError(send(srv, ''), 400, 'EmptyBody');
    await expectError(send(srv, '{"apiVersion": "admission.k8s.io/v1", '), 400, 'InvalidJson');
    await expectError(send(srv, Buffer.from([0xff, 0xfe, 0x00, 0x41])), 400, 'InvalidJson');
    await expectError(send(srv, '[1,2,3]'), 400, 'InvalidAdmissionReview');
    await expectError(send(srv, 'null'), 400, 'InvalidAdmissionReview');
    await expectError(send(srv, '"AdmissionReview"'), 400, 'InvalidAdmissionReview');
  });

  test('not an AdmissionReview v1, or no usable request → 400', async () => {
    const good = JSON.parse(admissionReview({ object: pod('a') }).body) as Record<string, Record<string, unknown>>;
    const variant = (patch: (r: Record<string, Record<string, unknown>>) => void): string => {
      const copy = structuredClone(good);
      patch(copy);
      return JSON.stringify(copy);
    };
    await expectError(send(srv, variant((r) => { r.kind = 'ConversionReview' as never; })), 400, 'InvalidAdmissionReview');
    await expectError(send(srv, variant((r) => { r.apiVersion = 'admission.k8s.io/v1beta1' as never; })), 400, 'UnsupportedVersion');
    await expectError(send(srv, variant((r) => { delete r.request; })), 400, 'InvalidAdmissionReview');
    await expectError(send(srv, variant((r) => { delete r.request!.uid; })), 400, 'InvalidAdmissionReview');
    await expectError(send(srv, variant((r) => { r.request!.kind = 'Pod'; })), 400, 'InvalidAdmissionReview');
    await expectError(send(srv, variant((r) => { r.request!.dryRun = 'yes'; })), 400, 'InvalidAdmissionReview');
    await expectError(send(srv, variant((r) => { delete r.request!.object; })), 400, 'InvalidAdmissionReview');
  });

  test('body over 3 MiB → 413, with Content-Length and chunked', async () => {
    const big = Buffer.alloc(MAX_BODY_BYTES + 1, 0x20);
    await expectError(send(srv, big), 413, 'PayloadTooLarge');
    const chunks = Array.from({ length: 4 }, () => Buffer.alloc(1024 * 1024, 0x20));
    await expectError(send(srv, chunks), 413, 'PayloadTooLarge');
  });

  test('a body just under the cap is read and judged', async () => {
    const filler = 'x'.repeat(MAX_BODY_BYTES - 4096);
    const { uid, body } = admissionReview({ object: pod('big', { metadata: { name: 'big', annotations: { filler } } }) });
    assert.ok(Buffer.byteLength(body) < MAX_BODY_BYTES);
    const r = await send(srv, body);
    assert.equal(r.status, 200);
    const review = JSON.parse(r.body) as { response: { uid: string; allowed: boolean; patch?: string } };
    assert.equal(review.response.uid, uid);
    assert.equal(review.response.allowed, true);
    assert.equal(typeof review.response.patch, 'string');
  });

  test('deep nesting → 400, no stack overflow', async () => {
    const depth = 200_000;
    await expectError(send(srv, '['.repeat(depth) + ']'.repeat(depth)), 400, 'TooDeep');
    const nested = '{"a":'.repeat(5000) + '1' + '}'.repeat(5000);
    const { body } = admissionReview({ object: pod('deep') });
    await expectError(send(srv, body.replace('"spec":', `"deep":${nested},"spec":`)), 400, 'TooDeep');
  });

  test('__proto__, constructor and prototype keys with object values → 400, Object.prototype untouched', async () => {
    const gadgets = [
      '"labels":{"__proto__":{"polluted":"yes"}}',
      '"labels":{"__proto__":"yes"}',
      '"annotations":{"constructor":{"prototype":{"polluted":"yes"}}}',
      '"x":{"prototype":{"polluted":"yes"}}',
      '"x":[{"constructor":[1]}]',
    ];
    for (const gadget of gadgets) {
      const { body } = admissionReview({ object: pod('polluter') });
      await expectError(send(srv, body.replace('"metadata":{', `"metadata":{${gadget},`)), 400, 'ForbiddenKey');
    }
    assert.equal(({} as Record<string, unknown>).polluted, undefined);
  });

  test('constructor and prototype as string-valued label keys are legitimate', async () => {
    const { body } = admissionReview({ object: { ...pod('proto'), metadata: { name: 'proto', labels: { prototype: 'v2', constructor: 'team-a' } } } });
    const r = await send(srv, body);
    assert.equal(r.status, 200, r.body);
    const { response } = JSON.parse(r.body) as { response: { allowed: boolean; patch?: string } };
    assert.equal(response.allowed, true);
    assert.equal(typeof response.patch, 'string');
  });

  test('wrong method → 405 with Allow; unknown path → 404', async () => {
    const r = await send(srv, undefined, { method: 'GET' });
    assert.equal(r.status, 405);
    assert.equal(r.headers.allow, 'POST');
    assert.equal(errorOf(r).code, 'MethodNotAllowed');
    await expectError(send(srv, undefined, { method: 'PUT' }), 405, 'MethodNotAllowed');
    await expectError(send(srv, '{}', { path: '/mutate' }), 404, 'NotFound');
    await expectError(send(srv, undefined, { method: 'GET', path: '/' }), 404, 'NotFound');
  });

  test('the API server\'s ?timeout= query is accepted', async () => {
    const { uid, body } = admissionReview({ object: pod('q') });
    const r = await send(srv, body, { path: '/inject?timeout=5s' });
    assert.equal(r.status, 200, r.body);
    assert.equal((JSON.parse(r.body) as { response: { uid: string } }).response.uid, uid);
  });

  test('other kinds and operations are allowed untouched', async () => {
    for (const input of [
      { object: { apiVersion: 'v1', kind: 'Service', metadata: { name: 's' } }, kind: { group: '', version: 'v1', kind: 'Service' } },
      { object: pod('u'), operation: 'UPDATE' },
      { object: null, operation: 'DELETE' },
    ]) {
      const { uid, body } = admissionReview(input);
      const r = await send(srv, body);
      assert.equal(r.status, 200, r.body);
      const review = JSON.parse(r.body) as { response: Record<string, unknown> };
      assert.deepEqual(review.response, { uid, allowed: true });
    }
  });

  test('a rejected pod is an answer (allowed false, 400 status, message), not an HTTP error', async () => {
    const bad = pod('clash');
    (bad.spec as { containers: Array<Record<string, unknown>> }).containers[0]!.ports = [{ containerPort: 15006 }];
    const { uid, body } = admissionReview({ object: bad });
    const r = await send(srv, body);
    assert.equal(r.status, 200);
    const { response } = JSON.parse(r.body) as { response: { uid: string; allowed: boolean; patch?: string; status: { code: number; message: string } } };
    assert.equal(response.uid, uid);
    assert.equal(response.allowed, false);
    assert.equal(response.patch, undefined);
    assert.equal(response.status.code, 400);
    assert.match(response.status.message, /container "app".*15006.*skein\.io\/inject: disabled/);
  });

  test('a pod that is not a Pod is rejected with a reason', async () => {
    const { body } = admissionReview({ object: { metadata: { name: 'x' }, spec: { containers: 'app' } } });
    const r = await send(srv, body);
    const { response } = JSON.parse(r.body) as { response: { allowed: boolean; status: { message: string } } };
    assert.equal(response.allowed, false);
    assert.match(response.status.message, /spec\.containers/);
  });

  test('a 100-container pod gets a patch of adds at an index, no list replaced (W6; its speed is measured by bench:webhook)', async () => {
    const containers = Array.from({ length: 100 }, (_, i) => ({
      name: `c${i}`, image: 'example/app:1', ports: [{ containerPort: 8000 + i }],
      readinessProbe: { httpGet: { path: '/', port: 8000 + i } },
    }));
    const { body } = admissionReview({ object: { ...pod('wide'), spec: { containers } } });
    const r = await send(srv, body);
    const { response } = JSON.parse(r.body) as { response: { allowed: boolean; patch: string } };
    assert.equal(response.allowed, true);
    const ops = JSON.parse(Buffer.from(response.patch, 'base64').toString()) as Array<{ op: string; path: string }>;
    assert.ok(ops.some((o) => o.op === 'add' && o.path === '/spec/containers/0'));
    assert.ok(!ops.some((o) => o.path === '/spec/containers' || o.op === 'move' || o.op === 'copy'));
  });

  test('the server survived all of the above, logged and counted every answer', async () => {
    const { uid, body } = admissionReview({ object: { ...pod('x'), metadata: { generateName: 'web-', namespace: 'shop' } }, namespace: 'shop' });
    const r = await send(srv, body);
    assert.equal(r.status, 200);
    const line = srv.logs.find((l) => l.uid === uid);
    assert.ok(line !== undefined);
    assert.equal(line.component, 'admission');
    assert.equal(line.namespace, 'shop');
    assert.equal(line.pod, 'web-*');
    assert.equal(line.decision, 'inject');
    assert.equal(line.reason, 'injected');
    assert.equal(typeof line.durationMs, 'number');
    assert.ok(srv.logs.some((l) => l.code === 'PayloadTooLarge' && l.status === 413));
    const metrics = await srv.registry.metrics();
    assert.match(metrics, /skein_admissions_total\{decision="inject",reason="injected"\} \d+/);
    assert.match(metrics, /skein_admissions_total\{decision="reject",reason="port-conflict"\} 1/);
    assert.match(metrics, /skein_admissions_total\{decision="error",reason="PayloadTooLarge"\} 2/);
    assert.match(metrics, /skein_admissions_total\{decision="error",reason="UnsupportedMediaType"\} 3/);
    assert.match(metrics, /skein_admissions_total\{decision="skip",reason="not-pod-create"\} 3/);
    assert.match(metrics, /skein_admission_duration_seconds_count\{decision="error"\} \d+/);
    assert.ok(srv.logs.every((l) => typeof l.msg !== 'string' || !/\n\s+at /.test(l.msg)));
  });
});
