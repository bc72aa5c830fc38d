// Kubernetes mode: TrafficPermissions from the in-memory API server (the CRD schema of
// manifests/crds/trafficpermission.yaml applied as a real server applies it) reach the state through
// the informer and the Snapshot.policies of the pods they select; what the schema lets through but
// skein-cp refuses is sent fail closed.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import * as k8s from '@kubernetes/client-node';
import { Action } from '@skein/api';
import { PODS, TRAFFIC_PERMISSIONS } from '../kube/testing/apiserver/kinds-discovery.js';
import { FakeApiServer } from '../kube/testing/apiserver/server.js';
import { kubeInformerSource } from './kube-informers.js';
import { SnapshotBuilder } from './snapshot.js';
import { memoryLogger, waitForState } from './testing.js';
import type { ClusterSource } from './types.js';

const pod = (name: string, labels: Record<string, string>): Record<string, unknown> => ({
  apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: 'shop', labels, annotations: { 'skein.io/injected': '0.1.0' } },
  spec: { serviceAccountName: name, containers: [{ name: 'app', image: 'nginx:1.27', ports: [{ name: 'http', containerPort: 8080 }] }] },
});
const perm = (name: string, spec: Record<string, unknown>): Record<string, unknown> =>
  ({ apiVersion: 'skein.io/v1alpha1', kind: 'TrafficPermission', metadata: { name, namespace: 'shop' }, spec });
const GROUP = { group: 'skein.io', version: 'v1alpha1', plural: 'trafficpermissions', namespace: 'shop' };

describe('TrafficPermissions through the informer into Snapshot.policies', () => {
  let api: FakeApiServer;
  let source: ClusterSource;
  let custom: k8s.CustomObjectsApi;
  const builder = new SnapshotBuilder();
  const policiesOf = (podName: string): ReturnType<SnapshotBuilder['build']>['policies'] =>
    builder.build(source.state(), { namespace: 'shop', podName }, { trustDomain: 'cluster.local', trustAnchorsPem: [] }).policies;

  before(async () => {
    api = await FakeApiServer.start({ namespaces: ['default', 'shop'] });
    api.seed(PODS, pod('orders', { app: 'orders' }));
    api.seed(PODS, pod('bills', { app: 'bills' }));
    api.seed(TRAFFIC_PERMISSIONS, perm('orders-get', { selector: { matchLabels: { app: 'orders' } }, action: 'Allow', from: [{ serviceAccounts: ['shop/frontend'] }], to: [{ ports: [8080], methods: ['GET'], paths: ['/orders/*'] }] }));
    const kc = new k8s.KubeConfig();
    kc.loadFromString(api.kubeconfig());
    custom = kc.makeApiClient(k8s.CustomObjectsApi);
    source = kubeInformerSource({ kubeConfig: kc, log: memoryLogger().log, backoff: { baseMs: 50, maxMs: 200 }, relistJitterMs: 50 });
    await source.start();
  });

  after(async () => {
    await source.stop();
    await api.close();
  });

  test('listed before start() resolves, with its generation; the selected pod gets it, the other does not', () => {
    const o = source.state().trafficPermissions.get('shop/orders-get');
    assert.equal(o?.metadata?.generation, 1);
    assert.deepEqual(policiesOf('orders').map((p) => [p.name, p.action, p.to[0]?.paths]), [['orders-get', Action.ACTION_ALLOW, ['/orders/*']]]);
    assert.deepEqual(policiesOf('bills'), []);
    assert.equal(api.warnings.length, 0, api.warnings.join('\n'));
  });

  test('the API server refuses what the schema forbids (empty from entry, port 0, lower-case method, unknown action)', async () => {
    for (const [what, spec] of [
      ['empty from entry', { action: 'Allow', from: [{}] }],
      ['empty serviceAccounts', { action: 'Allow', from: [{ serviceAccounts: [] }] }],
      ['port 0', { action: 'Allow', to: [{ ports: [0] }] }],
      ['port 65536', { action: 'Allow', to: [{ ports: [65536] }] }],
      ['lower-case method', { action: 'Allow', to: [{ methods: ['get'] }] }],
      ['unknown action', { action: 'Reject' }],
      ['no action', { to: [{ ports: [80] }] }],
    ] as const) {
      await assert.rejects(custom.createNamespacedCustomObject({ ...GROUP, body: perm(`bad-${what.replace(/[^a-z0-9]+/g, '-')}`, spec) }), (err: unknown) => (err as { code?: number }).code === 422, what);
    }
  });

  test('what the schema lets through but skein-cp refuses is sent fail closed; an update and a delete follow', async () => {
    // A Deny whose path has a dot segment (the schema's pattern allows it): no normalised request has it.
    await custom.createNamespacedCustomObject({ ...GROUP, body: perm('deny-admin', { action: 'Deny', to: [{ paths: ['/orders/../admin'] }] }) });
    await waitForState(source, (s) => s.trafficPermissions.has('shop/deny-admin'), 'deny-admin');
    assert.deepEqual(policiesOf('bills'), [{ name: 'deny-admin', namespace: 'shop', selectorMatchLabels: {}, action: Action.ACTION_DENY, from: [], to: [] }]);
    // An Allow with a glob inside a path: allows nothing, and stays an Allow for its pods.
    await custom.patchNamespacedCustomObject({ ...GROUP, name: 'orders-get', body: [{ op: 'replace', path: '/spec/to/0/paths', value: ['/orders/*/items'] }] },
      k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.JsonPatch));
    await waitForState(source, (s) => s.trafficPermissions.get('shop/orders-get')?.metadata?.generation === 2, 'orders-get generation 2');
    assert.deepEqual(policiesOf('orders').find((p) => p.name === 'orders-get'), {
      name: 'orders-get', namespace: 'shop', selectorMatchLabels: { app: 'orders' }, action: Action.ACTION_ALLOW, from: [], to: [{ ports: [0], methods: [], paths: [] }],
    });
    await custom.deleteNamespacedCustomObject({ ...GROUP, name: 'deny-admin' });
    await waitForState(source, (s) => !s.trafficPermissions.has('shop/deny-admin'), 'deny-admin deleted');
    assert.deepEqual(policiesOf('bills'), []);
  });
});

describe('TrafficPermission CRD not installed', () => {
  test('a 404 list is "no permissions" with a warning; start() still resolves and the other kinds work', async () => {
    const api = await FakeApiServer.start({ namespaces: ['default', 'shop'], withoutResources: ['trafficpermissions'] });
    api.seed(PODS, pod('orders', { app: 'orders' }));
    const kc = new k8s.KubeConfig();
    kc.loadFromString(api.kubeconfig());
    const logs = memoryLogger();
    const source = kubeInformerSource({ kubeConfig: kc, log: logs.log, backoff: { baseMs: 50, maxMs: 200 } });
    try {
      await source.start();
      assert.equal(source.state().trafficPermissions.size, 0);
      assert.ok(source.state().pods.has('shop/orders'));
      const warned = logs.lines().filter((l) => l.level === 40 && String(l.msg).includes('TrafficPermission CRD (trafficpermissions.skein.io) is not installed'));
      assert.equal(warned.length, 1, 'warned once, not on every retry');
      assert.equal(warned[0]?.kind, 'trafficPermissions');
    } finally {
      await source.stop();
      await api.close();
    }
  });
});
