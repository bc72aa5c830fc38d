// Golden tests of the injector through the real admission endpoint: every workload of the corpus
// (testdata/injector/corpus, copied from shared/corpus/workloads) and every edge case of
// testdata/injector/cases goes over HTTPS to POST /inject; the patch must apply (fast-json-patch, validating),
// the result must be a valid Pod (Kubernetes OpenAPI schema via kubernetes-models), keep the `restricted` Pod
// Security Standard except skein-init's documented exceptions, be left alone by a second pass, and equal the
// committed *.golden.yaml. SKEIN_UPDATE_GOLDEN=1 rewrites the golden files.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import type { V1Pod } from '@kubernetes/client-node';
import jsonpatch from 'fast-json-patch';
import { Pod } from 'kubernetes-models/v1';
import { parse, stringify } from 'yaml';
import { defaultInjectorConfig } from '../injector/index.js';
import { parseWorkloads, podFromWorkload } from './testing/corpus.js';
import { INIT_EXCEPTIONS, podViolations } from './testing/pss.js';
import { podProblems } from './testing/semantics.js';
import { unknownFields } from './testing/strict.js';
import { admissionReview, send, startTestServer, type TestServer } from './testing/server.js';

// From webhook/dist/admission/golden.test.js (and src/admission) two levels up is the webhook package root.
const TESTDATA = new URL('../../testdata/injector/', import.meta.url);
const UPDATE = process.env.SKEIN_UPDATE_GOLDEN === '1';
const VERSION = '0.0.0-test';

type Obj = Record<string, unknown>;
interface GoldenCase {
  name: string;
  golden: URL;
  pod: Obj;
  namespace: string;
  dryRun: boolean;
  operation: string;
  nativeSidecarDefault: boolean;
}

function corpusCases(): GoldenCase[] {
  const dir = new URL('corpus/', TESTDATA);
  return readdirSync(dir).filter((f) => f.endsWith('.yaml') && !f.endsWith('.golden.yaml')).sort().flatMap((file) => {
    const docs = parseWorkloads(readFileSync(new URL(file, dir), 'utf8'));
    assert.ok(docs.length > 0, `${file} holds no document`);
    const base = file.replace(/\.yaml$/, '');
    return docs.map((doc, i): GoldenCase => {
      const pod = podFromWorkload(doc);
      const suffix = docs.length > 1 ? `.${i}` : '';
      return {
        name: `corpus/${base}${suffix}`, golden: new URL(`${base}${suffix}.golden.yaml`, dir), pod,
        namespace: String((pod.metadata as Obj).namespace ?? 'default'), dryRun: false, operation: 'CREATE', nativeSidecarDefault: false,
      };
    });
  });
}

/** cases/<name>.input.yaml: {description, namespace?, dryRun?, operation?, nativeSidecarDefault?, object: Pod|workload}. */
function edgeCases(): GoldenCase[] {
  const dir = new URL('cases/', TESTDATA);
  return readdirSync(dir).filter((f) => f.endsWith('.input.yaml')).sort().map((file) => {
    const spec = parse(readFileSync(new URL(file, dir), 'utf8'), { version: '1.1' }) as Obj;
    assert.equal(typeof spec.description, 'string', `${file}: description missing`);
    const pod = podFromWorkload(spec.object as Obj);
    const base = file.replace(/\.input\.yaml$/, '');
    return {
      name: `cases/${base}`, golden: new URL(`${base}.golden.yaml`, dir), pod,
      namespace: String(spec.namespace ?? (pod.metadata as Obj | undefined)?.namespace ?? 'default'),
      dryRun: spec.dryRun === true, operation: String(spec.operation ?? 'CREATE'), nativeSidecarDefault: spec.nativeSidecarDefault === true,
    };
  });
}

function decodePatch(response: Obj): jsonpatch.Operation[] | undefined {
  if (response.patch === undefined) return undefined;
  assert.equal(response.patchType, 'JSONPatch');
  return JSON.parse(Buffer.from(String(response.patch), 'base64').toString('utf8')) as jsonpatch.Operation[];
}

function checkPatchShape(ops: jsonpatch.Operation[]): void {
  const probeField = /^\/spec\/(containers|initContainers)\/\d+\/(liveness|readiness|startup)Probe\//;
  for (const op of ops) {
    // A rewritten probe loses its old handler (tcpSocket, grpc, httpGet headers); nothing else is removed.
    const allowed = op.op === 'add' || op.op === 'replace' || (op.op === 'remove' && probeField.test(op.path));
    assert.ok(allowed, `unexpected ${op.op} ${op.path}`);
    // Lists already in the pod are extended with `add`, never replaced wholesale (reliability.md §4).
    if (op.op === 'replace') assert.ok(!Array.isArray(op.value), `replace of a list at ${op.path}`);
  }
}

function checkPss(input: V1Pod, output: V1Pod): void {
  const was = podViolations(input);
  for (const [name, violations] of podViolations(output)) {
    if (name === 'skein-proxy') assert.deepEqual(violations, [], 'skein-proxy must meet the restricted PSS');
    else if (name === 'skein-init') assert.deepEqual(violations.filter((v) => !INIT_EXCEPTIONS.includes(v)), [], 'skein-init exceptions');
    else assert.deepEqual(violations.filter((v) => !(was.get(name) ?? []).includes(v)), [], `injection made ${name} less restricted`);
  }
  for (const name of ['skein-init', 'skein-proxy']) assert.ok(podViolations(output).has(name), `${name} missing`);
}

function render(golden: Obj): string {
  return `# Generated by webhook/src/admission/golden.test.ts; SKEIN_UPDATE_GOLDEN=1 rewrites it.\n${stringify(golden, { lineWidth: 0 })}`;
}

describe('injector golden files (POST /inject over HTTPS)', () => {
  let plain: TestServer;
  let native: TestServer;
  before(async () => {
    plain = await startTestServer(defaultInjectorConfig(VERSION));
    native = await startTestServer({ ...defaultInjectorConfig(VERSION), nativeSidecarDefault: true });
  });
  after(async () => { await plain?.close(); await native?.close(); });

  async function admit(c: GoldenCase, object: unknown, dryRun = c.dryRun): Promise<{ response: Obj; log: Obj }> {
    const srv = c.nativeSidecarDefault ? native : plain;
    const { uid, body } = admissionReview({ object, namespace: c.namespace, dryRun, operation: c.operation });
    const reply = await send(srv, body);
    assert.equal(reply.status, 200, reply.body);
    const review = JSON.parse(reply.body) as Obj;
    assert.equal(review.apiVersion, 'admission.k8s.io/v1');
    assert.equal(review.kind, 'AdmissionReview');
    const response = review.response as Obj;
    assert.equal(response.uid, uid);
    const log = srv.logs.find((l) => l.uid === uid);
    assert.ok(log !== undefined, 'no log line for the admission');
    return { response, log };
  }

  const cases = [...corpusCases(), ...edgeCases()];
  for (const c of cases) {
    test(c.name, async () => {
      const { response, log } = await admit(c, c.pod);
      const golden: Obj = { decision: log.decision, reason: log.reason, allowed: response.allowed };
      const ops = decodePatch(response);
      if (ops !== undefined) {
        assert.equal(log.decision, 'inject');
        checkPatchShape(ops);
        const patched = jsonpatch.applyPatch(structuredClone(c.pod), ops, true, false).newDocument;
        new Pod(patched as never).validate();
        // Some inputs are fragments (StatefulSet claim templates become volumes later; test fixtures omit
        // volumes): the injection must add no problem of its own.
        const had = podProblems(c.pod as V1Pod);
        assert.deepEqual(podProblems(patched as V1Pod).filter((p) => !had.includes(p)), [], 'the API server would refuse the injected pod');
        const unknownBefore = unknownFields(c.pod);
        assert.deepEqual(unknownFields(patched).filter((p) => !unknownBefore.includes(p)), [], 'fields the Kubernetes API does not know');
        checkPss(c.pod as V1Pod, patched as V1Pod);
        const again = await admit(c, patched);
        assert.equal(again.response.allowed, true);
        assert.equal(again.response.patch, undefined, 'second pass must not patch');
        assert.equal(again.log.reason, 'already-injected');
        if (c.dryRun) {
          const wet = await admit(c, c.pod, false);
          assert.deepEqual(decodePatch(wet.response), ops, 'dryRun must get the same patch');
        }
        golden.patch = ops.map((o) => `${o.op} ${o.path}`);
        golden.pod = patched;
      } else {
        assert.notEqual(log.decision, 'inject');
        assert.equal(response.allowed, log.decision === 'skip');
        if (response.status !== undefined) golden.status = response.status;
      }
      const text = render(golden);
      if (UPDATE) writeFileSync(c.golden, text);
      let expected: string;
      try { expected = readFileSync(c.golden, 'utf8'); } catch { assert.fail(`${c.golden.pathname} missing; run with SKEIN_UPDATE_GOLDEN=1`); }
      assert.equal(text, expected);
    });
  }
});
