// Kubernetes mode's status report against the in-memory API server: only the leader patches
// trafficpermissions/status; the conditions follow the verdict and observedGeneration the spec; the
// status writes coming back through the informer cause no further writes; the status subresource
// behaves as a real server's (spec untouched, generation not bumped, the main resource cannot set status,
// a status the schema refuses is 422).
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import * as k8s from '@kubernetes/client-node';
import { kubeInformerSource } from '../discovery/kube-informers.js';
import { memoryLogger, waitForState } from '../discovery/testing.js';
import type { ClusterSource } from '../discovery/types.js';
import { TRAFFIC_PERMISSIONS } from '../kube/testing/apiserver/kinds-discovery.js';
import { raw } from '../kube/testing/apiserver/raw-client.js';
import { FakeApiServer } from '../kube/testing/apiserver/server.js';
import { startPolicyReporter, type PolicyReporter } from './reporter.js';
import { kubeStatusStore } from './status-kube.js';
import type { Condition, TrafficPermissionObject } from './types.js';

const perm = (name: string, spec: Record<string, unknown>): Record<string, unknown> =>
  ({ apiVersion: 'skein.io/v1alpha1', kind: 'TrafficPermission', metadata: { name, namespace: 'shop' }, spec });
const GROUP = { group: 'skein.io', version: 'v1alpha1', plural: 'trafficpermissions', namespace: 'shop' };
const PATH = '/apis/skein.io/v1alpha1/namespaces/shop/trafficpermissions';

describe('TrafficPermission status in Kubernetes mode', () => {
  let api: FakeApiServer;
  let source: ClusterSource;
  let reporter: PolicyReporter;
  let custom: k8s.CustomObjectsApi;
  let leader = false;
  const logs = memoryLogger();
  const stored = (name: string): TrafficPermissionObject => api.get(TRAFFIC_PERMISSIONS, 'shop', name) as TrafficPermissionObject;
  const cond = (name: string, type: string): Condition | undefined => stored(name).status?.conditions?.find((c) => c.type === type);
  const statusPatches = (): number => api.writes.filter((w) => w.resource === 'trafficpermissions' && w.verb === 'patch').length;
  /** Passes until the informer's copy of every object carries the status the server has (nothing in flight). */
  async function settle(): Promise<void> {
    for (let i = 0; i < 200; i++) {
      reporter.kick();
      await reporter.idle();
      const s = source.state();
      const synced = [...s.trafficPermissions.entries()].every(([k, o]) => o.metadata?.resourceVersion === (api.get(TRAFFIC_PERMISSIONS, 'shop', k.split('/')[1] ?? '') as TrafficPermissionObject | undefined)?.metadata?.resourceVersion);
      if (synced) return;
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  before(async () => {
    api = await FakeApiServer.start({ namespaces: ['default', 'shop'] });
    api.seed(TRAFFIC_PERMISSIONS, perm('good', { action: 'Allow', from: [{ serviceAccounts: ['shop/frontend'] }] }));
    api.seed(TRAFFIC_PERMISSIONS, perm('bad', { action: 'Deny', to: [{ paths: ['/a%2Fb'] }] }));
    const kc = new k8s.KubeConfig();
    kc.loadFromString(api.kubeconfig());
    custom = kc.makeApiClient(k8s.CustomObjectsApi);
    source = kubeInformerSource({ kubeConfig: kc, log: logs.log, backoff: { baseMs: 50, maxMs: 200 } });
    await source.start();
    reporter = startPolicyReporter({ source, store: kubeStatusStore({ kubeConfig: kc, log: logs.log }), log: logs.log, isLeader: () => leader });
    await reporter.idle();
  });

  after(async () => {
    await reporter.stop();
    await source.stop();
    await api.close();
  });

  test('a replica that is not the leader logs the verdict but writes no status', async () => {
    await settle();
    assert.equal(statusPatches(), 0);
    assert.equal(stored('bad').status, undefined);
    assert.ok(logs.lines().some((l) => l.policy === 'shop/bad' && l.level === 40 && l.effect === 'deny-all'));
  });

  test('the leader writes Valid and Accepted with observedGeneration; its own writes cause no more writes', async () => {
    leader = true;
    await settle();
    assert.deepEqual([cond('good', 'Valid')?.status, cond('good', 'Accepted')?.reason], ['True', 'Enforced']);
    assert.deepEqual([cond('bad', 'Valid')?.status, cond('bad', 'Valid')?.reason, cond('bad', 'Accepted')?.reason], ['False', 'Invalid', 'FailClosed']);
    assert.match(cond('bad', 'Valid')?.message ?? '', /encoded "\/"/);
    assert.equal(stored('bad').status?.observedGeneration, 1);
    assert.equal(cond('bad', 'Valid')?.observedGeneration, 1);
    assert.match(cond('bad', 'Valid')?.lastTransitionTime ?? '', /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    assert.equal(stored('bad').metadata?.generation, 1, 'a status write does not bump generation');
    assert.deepEqual((stored('bad').spec as { to: unknown }).to, [{ paths: ['/a%2Fb'] }], 'nor touch the spec');
    assert.equal(statusPatches(), 2);
    await settle();
    await settle();
    assert.equal(statusPatches(), 2, 'no write loop through the informer');
    assert.equal(api.warnings.length, 0, api.warnings.join('\n'));
  });

  test('a spec change: the status follows the new generation', async () => {
    await custom.patchNamespacedCustomObject({ ...GROUP, name: 'bad', body: [{ op: 'replace', path: '/spec/to/0/paths', value: ['/a/b'] }] },
      k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.JsonPatch));
    await waitForState(source, (s) => s.trafficPermissions.get('shop/bad')?.metadata?.generation === 2, 'bad at generation 2');
    await settle();
    assert.equal(stored('bad').status?.observedGeneration, 2);
    assert.deepEqual([cond('bad', 'Valid')?.status, cond('bad', 'Accepted')?.reason], ['True', 'Enforced']);
  });

  test('someone else clearing the status: the leader writes it again', async () => {
    const before = statusPatches();
    await custom.patchNamespacedCustomObjectStatus({ ...GROUP, name: 'good', body: [{ op: 'remove', path: '/status' }] },
      k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.JsonPatch));
    await waitForState(source, (s) => s.trafficPermissions.get('shop/good')?.status?.conditions === undefined, 'status cleared');
    await settle();
    assert.equal(cond('good', 'Valid')?.status, 'True');
    assert.equal(statusPatches(), before + 2);
  });

  test('the status subresource as a real server has it: the main resource cannot set status; a status the schema refuses is 422', async () => {
    const cur = stored('good');
    const put = await raw(api, 'PUT', `${PATH}/good`, { ...cur, status: { conditions: [{ type: 'Valid', status: 'False', reason: 'Forged' }] } });
    assert.equal(put.status, 200);
    assert.equal(cond('good', 'Valid')?.reason, 'Valid', 'status kept: only .../status changes it');
    const bad = await raw(api, 'PUT', `${PATH}/good/status`, { ...stored('good'), status: { conditions: [{ type: 'Valid', status: 'Maybe' }] } });
    assert.equal(bad.status, 422, JSON.stringify(bad.body));
  });
});
