// The patch is exact (applying it to the pod as received gives the injector's pod, for every golden input)
// and stays linear for huge pods: lists grow by `add`, and 5,000-item lists neither hang nor overflow the stack.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { describe, test } from 'node:test';
import type { V1Pod } from '@kubernetes/client-node';
import jsonpatch from 'fast-json-patch';
import { parse } from 'yaml';
import { decide, defaultInjectorConfig, type InjectDecision } from '../injector/index.js';
import { podPatch } from './patch.js';
import { parseWorkloads, podFromWorkload } from './testing/corpus.js';

const TESTDATA = new URL('../../testdata/injector/', import.meta.url);
const cfg = defaultInjectorConfig('0.0.0-test');

function apply(doc: unknown, ops: jsonpatch.Operation[]): unknown {
  return jsonpatch.applyPatch(structuredClone(doc), ops, true, false).newDocument;
}

function goldenInputs(): V1Pod[] {
  const corpus = new URL('corpus/', TESTDATA);
  const cases = new URL('cases/', TESTDATA);
  return [
    ...readdirSync(corpus).filter((f) => f.endsWith('.yaml') && !f.endsWith('.golden.yaml'))
      .flatMap((f) => parseWorkloads(readFileSync(new URL(f, corpus), 'utf8'))),
    ...readdirSync(cases).filter((f) => f.endsWith('.input.yaml'))
      .map((f) => (parse(readFileSync(new URL(f, cases), 'utf8'), { version: '1.1' }) as { object: Record<string, unknown> }).object),
  ].map((doc) => podFromWorkload(doc) as V1Pod);
}

type Injected = Extract<InjectDecision, { kind: 'inject' }>;

describe('podPatch', () => {
  test('applied to the pod as received, it gives exactly the injected pod (every golden input)', () => {
    let injected = 0;
    for (const pod of goldenInputs()) {
      const d = decide(pod, String(pod.metadata?.namespace ?? 'default'), cfg);
      if (d.kind !== 'inject') continue;
      injected += 1;
      assert.deepEqual(apply(pod, podPatch(pod, d.inPlace, d.pod)), JSON.parse(JSON.stringify(d.pod)), pod.metadata?.name);
    }
    assert.ok(injected >= 50, `only ${injected} inputs were injected`);
  });

  test('5,000 containers, init containers and volumes: linear, adds only, exact', { timeout: 120_000 }, () => {
    const n = 5000;
    const pod: V1Pod = {
      metadata: { name: 'huge' },
      spec: {
        initContainers: Array.from({ length: n }, (_, i) => ({ name: `i${i}`, image: 'x' })),
        containers: Array.from({ length: n }, (_, i) => ({ name: `c${i}`, image: 'x', readinessProbe: { tcpSocket: { port: 1000 + i } } })),
        volumes: Array.from({ length: n }, (_, i) => ({ name: `v${i}`, emptyDir: {} })),
      },
    };
    const d = decide(pod, 'shop', cfg) as Injected;
    assert.equal(d.kind, 'inject');
    const ops = podPatch(pod, d.inPlace, d.pod);
    const listOps = ops.filter((o) => /^\/spec\/(initContainers|containers|volumes)\/(\d+|-)$/.test(o.path));
    assert.deepEqual(listOps.map((o) => `${o.op} ${o.path}`), [
      'add /spec/initContainers/-', 'add /spec/containers/0', 'add /spec/volumes/-', 'add /spec/volumes/-', 'add /spec/volumes/-',
    ]);
    assert.deepEqual(apply(pod, ops), JSON.parse(JSON.stringify(d.pod)));
  });

  test('native mode prepends init containers at indexes 0 and 1', () => {
    const pod: V1Pod = {
      metadata: { name: 'n', annotations: { 'skein.io/native-sidecar': 'true' } },
      spec: { initContainers: [{ name: 'a', image: 'x' }, { name: 'b', image: 'x' }], containers: [{ name: 'c', image: 'x' }] },
    };
    const d = decide(pod, 'shop', cfg) as Injected;
    const ops = podPatch(pod, d.inPlace, d.pod);
    assert.deepEqual(ops.filter((o) => o.path.startsWith('/spec/initContainers')).map((o) => `${o.op} ${o.path}`),
      ['add /spec/initContainers/0', 'add /spec/initContainers/1']);
    assert.deepEqual(apply(pod, ops), JSON.parse(JSON.stringify(d.pod)));
  });

  test('lists changed in other ways still get a correct patch (library alignment)', () => {
    const before = { a: [1, 2, 3, 4], b: [{ x: 1 }, { x: 2 }], c: ['p', 'q'] };
    const afters = [
      { a: [1, 9, 2, 3, 4], b: [{ x: 2 }], c: [] },
      { a: [4, 3, 2, 1], b: [{ x: 1 }, { x: 3 }, { x: 2 }], c: ['q', 'p', 'r'] },
      { a: [], b: [{ y: 1 }, { x: 2 }], c: ['p', 'q'] },
    ];
    for (const after of afters) {
      assert.deepEqual(apply(before, podPatch(before, before, after)), after);
      assert.deepEqual(apply(before, podPatch(before, after, after)), after);
    }
  });
});
