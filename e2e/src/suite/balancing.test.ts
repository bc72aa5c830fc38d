// Load balancing and resilience end to end on skein-local: a Deployment of three echo servers behind a
// Service, called through both sidecars. Requests on ONE keep-alive connection are spread per request,
// a hash annotation keeps one key on one endpoint, an endpoint whose server is killed costs no
// idempotent request (retried elsewhere, then ejected), and scaling the Deployment up and down while
// requests flow loses none.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import type { LocalMesh, PodJson } from './harness/local-mesh.js';
import { namespace, pod, type K8sObject } from './harness/manifests.js';
import { fixture } from './harness/paths.js';
import { pollUntil } from './harness/poll.js';
import { meshSuite } from './harness/suite.js';

const NS = 'e2e-lb';

function deployment(replicas: number): K8sObject {
  return {
    apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'web', namespace: NS },
    spec: {
      replicas, selector: { matchLabels: { app: 'web' } },
      template: {
        metadata: { labels: { app: 'web' } },
        spec: {
          terminationGracePeriodSeconds: 5,
          containers: [{
            name: 'echo', image: 'debian:12', command: ['node', fixture('echo-headers.js'), '8080'],
            env: [{ name: 'POD_NAME', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } }],
            ports: [{ containerPort: 8080 }],
            readinessProbe: { httpGet: { path: '/ready', port: 8080 }, periodSeconds: 1 },
          }],
        },
      },
    },
  };
}

function webService(name: string, annotation?: string): K8sObject {
  return {
    apiVersion: 'v1', kind: 'Service',
    metadata: { name, namespace: NS, ...(annotation ? { annotations: { 'skein.io/load-balancer': annotation } } : {}) },
    spec: { selector: { app: 'web' }, ports: [{ name: 'http', port: 80, targetPort: 8080, protocol: 'TCP' }] },
  };
}

async function webPods(m: LocalMesh): Promise<PodJson[]> {
  return (await m.pods(NS)).filter((p) => p.metadata.labels?.['app'] === 'web' && p.status?.phase === 'Running');
}

async function setup(m: LocalMesh): Promise<void> {
  await m.apply([
    namespace(NS, true),
    pod({ name: 'client', namespace: NS, containers: [{ name: 'toolbox', command: ['sleep', 'infinity'] }] }),
    deployment(3),
    webService('web'),
    webService('sticky', 'hash:header:x-user'),
  ]);
  await m.waitReady(NS, 'client');
  await pollUntil(async () => {
    const ready = (await webPods(m)).filter((p) => p.status?.containerStatuses?.every((c) => c.ready));
    return ready.length === 3 || undefined;
  }, { what: 'three ready web pods', timeoutMs: 90_000 });
}

/**
 * `n` GETs on one curl invocation (one keep-alive connection), at most `rate` per second; the answering
 * pod of each, '' for a failure.
 */
async function podsAnswering(m: LocalMesh, url: string, n: number, headers: readonly string[] = [], rate?: number): Promise<string[]> {
  const args = ['curl', '-s', '--max-time', '60', ...(rate ? ['--rate', `${rate}/s`] : []), ...headers.flatMap((h) => ['-H', h]), '-w', '\n'];
  for (let i = 0; i < n; i++) args.push(url);
  const out = await m.execOk(NS, 'client', args, { timeoutMs: 90_000 });
  return out.trim().split('\n').map((line) => {
    try { return (JSON.parse(line) as { pod: string }).pod; } catch { return ''; }
  });
}

const countOf = (xs: readonly string[]): Map<string, number> => {
  const m = new Map<string, number>();
  for (const x of xs) m.set(x, (m.get(x) ?? 0) + 1);
  return m;
};

describe('load balancing and resilience on skein-local', () => {
  const { mesh: m, diagnosed } = meshSuite('lb', [NS], setup);

  it('round robin: requests on one keep-alive connection are spread over the three endpoints within 10 %', diagnosed(async () => {
    const answered = await podsAnswering(m, `http://web.${NS}/rr`, 300);
    const counts = countOf(answered);
    assert.equal(counts.get('') ?? 0, 0, 'no request failed');
    assert.equal(counts.size, 3, `three endpoints answered: ${JSON.stringify([...counts])}`);
    for (const [p, n] of counts) assert.ok(n >= 90 && n <= 110, `${p} got ${n} of 300`);
  }));

  it('hash:header:x-user keeps one user on one endpoint and spreads users', diagnosed(async () => {
    const seen = new Set<string>();
    for (const user of ['alice', 'bob', 'carol', 'dave', 'erin', 'frank']) {
      const answered = await podsAnswering(m, `http://sticky.${NS}/s`, 20, [`x-user: ${user}`]);
      assert.equal(new Set(answered).size, 1, `${user} always lands on one endpoint: ${answered.join(',')}`);
      assert.notEqual(answered[0], '');
      seen.add(answered[0]!);
    }
    assert.ok(seen.size >= 2, `six users spread over more than one endpoint: ${[...seen].join(',')}`);
  }));

  it('an endpoint whose server is killed costs no idempotent request', diagnosed(async () => {
    const victim = (await webPods(m))[0]!;
    const record = JSON.parse(readFileSync(join(m.stateDir, 'runtime', `${NS}_${victim.metadata.name}.json`), 'utf8')) as { containers: Record<string, { pid: number }> };
    const loop = podsAnswering(m, `http://web.${NS}/kill`, 400, [], 100);
    await new Promise((r) => setTimeout(r, 1000));
    process.kill(record.containers['echo']!.pid, 'SIGKILL');
    const answered = await loop;
    const counts = countOf(answered);
    assert.equal(counts.get('') ?? 0, 0, `no request failed: ${JSON.stringify([...counts])}`);
    assert.equal(answered.length, 400);
  }));

  it('scaling the Deployment up and down while requests flow loses no request', diagnosed(async () => {
    const loop = podsAnswering(m, `http://web.${NS}/scale`, 600, [], 40);
    await m.apply([deployment(5)]);
    await pollUntil(async () => ((await webPods(m)).length >= 5) || undefined, { what: 'five web pods', timeoutMs: 60_000 });
    await m.apply([deployment(2)]);
    const answered = await loop;
    const counts = countOf(answered);
    assert.equal(counts.get('') ?? 0, 0, `no request failed: ${JSON.stringify([...counts])}`);
    assert.ok(counts.size >= 3, `new endpoints took traffic too: ${JSON.stringify([...counts])}`);
  }));
});
