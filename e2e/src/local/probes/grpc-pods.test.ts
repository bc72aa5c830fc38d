// gRPC probes end to end on a live skein-local (root): a real grpc.health.v1 server (the fixture in
// testing/) in pods, whose answers the test changes through a file. Unmeshed pods are probed by
// skein-local itself over h2c; an injected pod's grpc probe is rewritten by the webhook to httpGet on
// 15020 and run by the sidecar. Readiness follows SERVING/NOT_SERVING both ways, `service` is sent,
// a NOT_FOUND service is not ready, and a failing liveness probe restarts the container.
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { LocalMesh, SIDECAR, type PodJson } from '../../suite/harness/local-mesh.js';
import type { K8sObject } from '../../suite/harness/manifests.js';
import { REPO_ROOT } from '../../suite/harness/paths.js';
import { pollUntil } from '../../suite/harness/poll.js';
import { teardownOnSignals } from '../../suite/harness/suite.js';
import type { Probe } from '../model/types.js';
import { PROBE_USER_AGENT } from './grpc.js';

const mesh = new LocalMesh('grpc-probes', { bridgePrefix: 'sklt', podNet: '10.250', serviceNet: '10.251' });
const NS = 'sklt-grpc';
const MESH_NS = 'sklt-grpc-mesh';
const FIXTURE = join(REPO_ROOT, 'e2e', 'dist', 'local', 'probes', 'testing', 'health-server-main.js');
const PORT = 9090;

/** The fixture reads its answers from this file on every call. */
function statusFile(pod: string): string { return join(mesh.filesDir, `${pod}.json`); }
function setStatus(pod: string, statuses: Record<string, string>): void { writeFileSync(statusFile(pod), JSON.stringify(statuses)); }

function healthPod(name: string, ns: string, probes: { readinessProbe?: Probe; livenessProbe?: Probe }): K8sObject {
  return {
    apiVersion: 'v1', kind: 'Pod',
    metadata: { name, namespace: ns, labels: { app: name } },
    spec: {
      containers: [{
        name: 'app', image: 'debian:12', command: [process.execPath, FIXTURE, String(PORT), statusFile(name)],
        ports: [{ name: 'grpc', containerPort: PORT }], ...probes,
      }],
    },
  };
}

const fast = { periodSeconds: 1, timeoutSeconds: 2, failureThreshold: 1 };

const appReady = (p: PodJson): boolean | undefined => p.status?.containerStatuses?.find((c) => c.name === 'app')?.ready;
const podReady = (p: PodJson): boolean =>
  ((p.status as { conditions?: { type: string; status: string }[] } | undefined)?.conditions ?? []).some((c) => c.type === 'Ready' && c.status === 'True');

async function waitFor(what: string, ns: string, name: string, f: (p: PodJson) => boolean, timeoutMs = 60_000): Promise<PodJson> {
  return pollUntil(async () => { const p = await mesh.pod(ns, name); return f(p) ? p : undefined; }, { what: `${ns}/${name}: ${what}`, timeoutMs });
}

/** Lines the fixture printed for each Check it answered. */
async function checks(ns: string, name: string): Promise<string[]> {
  return (await mesh.logs(ns, name, 'app')).split('\n').filter((l) => l.startsWith('check '));
}

describe('gRPC probes (root, live skein-local)', () => {
  let release = (): void => undefined;
  before(async () => {
    release = teardownOnSignals(mesh, 'grpc probes');
    setStatus('plain', { '': 'NOT_SERVING' });
    setStatus('named', { '': 'SERVING' });
    setStatus('live', { '': 'SERVING' });
    setStatus('meshed', { '': 'NOT_SERVING' });
    await mesh.up();
    await mesh.apply([
      { apiVersion: 'v1', kind: 'Namespace', metadata: { name: NS } },
      { apiVersion: 'v1', kind: 'Namespace', metadata: { name: MESH_NS, labels: { 'skein.io/inject': 'enabled' } } },
      healthPod('plain', NS, { readinessProbe: { grpc: { port: PORT }, ...fast } }),
      healthPod('named', NS, { readinessProbe: { grpc: { port: PORT, service: 'shop.v1.Cart' }, ...fast } }),
      healthPod('live', NS, { livenessProbe: { grpc: { port: PORT, service: 'live' }, ...fast, failureThreshold: 2 } }),
      healthPod('meshed', MESH_NS, { readinessProbe: { grpc: { port: PORT }, ...fast } }),
    ]);
  }, { timeout: 240_000 });

  after(async () => {
    release();
    const problem = await mesh.destroy();
    if (problem) console.error(`grpc probes: cleanup problem: ${problem}`);
  }, { timeout: 150_000 });

  const diagnosed = (fn: () => Promise<void>) => async (): Promise<void> => {
    try { await fn(); } catch (err) { console.error(await mesh.dump([NS, MESH_NS])); throw err; }
  };

  it('an unmeshed pod is ready only while its health server answers SERVING', diagnosed(async () => {
    // NOT_SERVING: probes keep running (the fixture logs them) and the pod stays unready.
    await pollUntil(async () => ((await checks(NS, 'plain')).length >= 3 ? true : undefined), { what: 'three probe calls on plain', timeoutMs: 60_000 });
    const lines = await checks(NS, 'plain');
    assert.ok(lines.every((l) => l.includes('-> NOT_SERVING')), lines.join('\n'));
    assert.match(lines[0]!, new RegExp(`^check service="" user-agent="${PROBE_USER_AGENT}[^"]*" -> NOT_SERVING$`));
    assert.equal(appReady(await mesh.pod(NS, 'plain')), false);
    setStatus('plain', { '': 'SERVING' });
    await mesh.waitReady(NS, 'plain', 30_000);
    setStatus('plain', { '': 'NOT_SERVING' });
    await waitFor('readiness lost after NOT_SERVING', NS, 'plain', (p) => appReady(p) === false && !podReady(p), 30_000);
    setStatus('plain', { '': 'UNKNOWN' });
    await pollUntil(async () => ((await checks(NS, 'plain')).at(-1)?.endsWith('-> UNKNOWN') ? true : undefined), { what: 'an UNKNOWN answer', timeoutMs: 30_000 });
    assert.equal(appReady(await mesh.pod(NS, 'plain')), false, 'UNKNOWN is not ready');
  }));

  it('sends the probe\'s service; an unknown service (NOT_FOUND) is not ready until it is SERVING', diagnosed(async () => {
    await pollUntil(async () => ((await checks(NS, 'named')).length >= 2 ? true : undefined), { what: 'probe calls on named', timeoutMs: 60_000 });
    const lines = await checks(NS, 'named');
    assert.ok(lines.every((l) => l.startsWith('check service="shop.v1.Cart"') && l.endsWith('-> NOT_FOUND')), lines.join('\n'));
    assert.equal(appReady(await mesh.pod(NS, 'named')), false, 'the server is SERVING, but not the service asked for');
    setStatus('named', { '': 'SERVING', 'shop.v1.Cart': 'SERVING' });
    await mesh.waitReady(NS, 'named', 30_000);
  }));

  it('a failing gRPC liveness probe restarts the container', diagnosed(async () => {
    await pollUntil(async () => ((await checks(NS, 'live')).length >= 1 ? true : undefined), { what: 'a liveness call on live', timeoutMs: 60_000 });
    const before = (await mesh.pod(NS, 'live')).status?.containerStatuses?.[0]?.restartCount ?? 0;
    setStatus('live', { '': 'SERVING', live: 'NOT_SERVING' });
    await waitFor('a restart after NOT_SERVING', NS, 'live', (p) => (p.status?.containerStatuses?.[0]?.restartCount ?? 0) > before, 60_000);
    setStatus('live', { '': 'SERVING', live: 'SERVING' });
    const settled = (await mesh.pod(NS, 'live')).status?.containerStatuses?.[0]?.restartCount ?? 0;
    // SERVING again: several periods pass without another restart.
    await pollUntil(async () => ((await checks(NS, 'live')).filter((l) => l.endsWith('-> SERVING') && l.includes('"live"')).length >= 4 ? true : undefined),
      { what: 'four SERVING liveness answers', timeoutMs: 60_000 });
    assert.ok(((await mesh.pod(NS, 'live')).status?.containerStatuses?.[0]?.restartCount ?? 0) <= settled + 1);
  }));

  it('an injected pod: the probe is rewritten to 15020 and the sidecar runs the gRPC check', diagnosed(async () => {
    const p = await waitFor('a sidecar', MESH_NS, 'meshed', (x) => [...(x.spec.initContainers ?? []), ...x.spec.containers].some((c) => c.name === SIDECAR));
    const app = (p.spec.containers as { name: string; readinessProbe?: Probe }[]).find((c) => c.name === 'app')!;
    assert.equal(app.readinessProbe?.grpc, undefined, 'the webhook replaced the grpc probe');
    assert.equal(app.readinessProbe?.httpGet?.port, 15020);
    assert.deepEqual(JSON.parse(p.metadata.annotations?.['skein.io/original-probes'] ?? '{}').app?.readiness?.grpc, { port: PORT });
    await pollUntil(async () => ((await checks(MESH_NS, 'meshed')).length >= 2 ? true : undefined), { what: 'the sidecar calling Check', timeoutMs: 90_000 });
    assert.equal(podReady(await mesh.pod(MESH_NS, 'meshed')), false);
    setStatus('meshed', { '': 'SERVING' });
    await mesh.waitReady(MESH_NS, 'meshed', 60_000);
    setStatus('meshed', { '': 'NOT_SERVING' });
    await waitFor('readiness lost after NOT_SERVING', MESH_NS, 'meshed', (x) => !podReady(x), 30_000);
  }));
});
