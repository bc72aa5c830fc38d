// `skein-cp --mode kubernetes` as a real process against the validating in-memory API server: the
// leader writes a TrafficPermission's status.conditions through the status subresource (the wiring of
// mesh-services.ts: informer, reporter, kubeStatusStore), and a spec change moves observedGeneration.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, test } from 'node:test';
import { applyWebhookConfiguration } from '../kube/testing/apiserver/manifests.js';
import { TRAFFIC_PERMISSIONS } from '../kube/testing/apiserver/kinds-discovery.js';
import { raw } from '../kube/testing/apiserver/raw-client.js';
import { FakeApiServer } from '../kube/testing/apiserver/server.js';
import type { TrafficPermissionObject } from './types.js';

const MAIN = fileURLToPath(new URL('../main.js', import.meta.url));
const NS = 'skein-system';
const children = new Set<ChildProcess>();
const cleanup: Array<() => Promise<void>> = [];
after(async () => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  for (const f of cleanup) await f();
});

async function until<T>(what: string, probe: () => T | undefined, log: () => string): Promise<T> {
  const deadline = Date.now() + 30_000; // failure guard only
  for (;;) {
    const v = probe();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}:\n${log()}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

test('skein-cp --mode kubernetes: the leader reports TrafficPermission validation in status.conditions', async () => {
  const api = await FakeApiServer.start({ namespaces: ['default', NS, 'shop'] });
  const dir = await mkdtemp(join(tmpdir(), 'sk-ut-cppolicy-'));
  cleanup.push(async () => { await api.close(); await rm(dir, { recursive: true, force: true }); });
  await applyWebhookConfiguration(api);
  // Valid for the schema (its path pattern allows a glob inside), invalid for skein-cp.
  api.seed(TRAFFIC_PERMISSIONS, { apiVersion: 'skein.io/v1alpha1', kind: 'TrafficPermission', metadata: { name: 'deny-admin', namespace: 'shop' }, spec: { action: 'Deny', to: [{ paths: ['/admin/*/x'] }] } });
  const kubeconfig = await api.writeKubeconfig(dir);
  const child = spawn(process.execPath, [MAIN, '--kubeconfig', kubeconfig, '--bind-address', '127.0.0.1', '--health-port', '0', '--webhook-port', '0', '--grpc-port', '0'], {
    stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, POD_NAME: 'skein-cp-0', POD_NAMESPACE: NS },
  });
  children.add(child);
  let out = '';
  child.stdout?.on('data', (b: Buffer) => (out += b.toString()));
  child.stderr?.on('data', (b: Buffer) => (out += b.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const log = (): string => out;
  const stored = (): TrafficPermissionObject => api.get(TRAFFIC_PERMISSIONS, 'shop', 'deny-admin') as TrafficPermissionObject;

  const first = await until('status of shop/deny-admin', () => (stored().status?.conditions ? stored().status : undefined), log);
  assert.equal(first?.observedGeneration, 1);
  assert.deepEqual(first?.conditions?.map((c) => [c.type, c.status, c.reason]), [['Valid', 'False', 'Invalid'], ['Accepted', 'False', 'FailClosed']]);
  assert.match(first?.conditions?.[0]?.message ?? '', /"\*" is allowed only as a trailing/);

  const cur = stored();
  const put = await raw(api, 'PUT', '/apis/skein.io/v1alpha1/namespaces/shop/trafficpermissions/deny-admin', { ...cur, spec: { action: 'Deny', to: [{ paths: ['/admin/*'] }] } });
  assert.equal(put.status, 200, JSON.stringify(put.body));
  const fixed = await until('status at generation 2', () => (stored().status?.observedGeneration === 2 ? stored().status : undefined), log);
  assert.deepEqual(fixed?.conditions?.map((c) => [c.type, c.status, c.reason]), [['Valid', 'True', 'Valid'], ['Accepted', 'True', 'Enforced']]);
  assert.equal(api.warnings.length, 0, api.warnings.join('\n'));

  child.kill('SIGTERM');
  assert.equal(await exited, 0, out);
});
