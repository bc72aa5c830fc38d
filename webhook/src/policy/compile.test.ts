// Which pods a TrafficPermission selects (namespace = the pod's, matchLabels ⊆ labels, expressions),
// what lands in each pod's Snapshot.policies (and its bytes and version), and the warnings that need
// the cluster (methods or paths on an opaque port).
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { V1Pod } from '@kubernetes/client-node';
import { Action, discovery } from '@skein/api';
import { buildSnapshot, encodeSnapshot, SnapshotBuilder } from '../discovery/snapshot.js';
import type { ClusterState } from '../discovery/types.js';
import { compilePolicies } from './compile.js';
import { selects } from './selector.js';
import type { TrafficPermissionObject } from './types.js';

const pod = (ns: string, name: string, labels: Record<string, string>, extra: { opaque?: string; ports?: { name?: string; containerPort: number }[] } = {}): V1Pod => ({
  metadata: { name, namespace: ns, labels, annotations: { 'skein.io/injected': '0.1.0', ...(extra.opaque ? { 'skein.io/opaque-ports': extra.opaque } : {}) } },
  spec: { serviceAccountName: name, containers: [{ name: 'app', image: 'x', ports: extra.ports ?? [{ name: 'http', containerPort: 8080 }] }] },
  status: { phase: 'Running', podIP: '10.244.0.9', podIPs: [{ ip: '10.244.0.9' }] },
});

const perm = (ns: string, name: string, spec: Record<string, unknown>, rv = '1'): TrafficPermissionObject =>
  ({ apiVersion: 'skein.io/v1alpha1', kind: 'TrafficPermission', metadata: { name, namespace: ns, resourceVersion: rv, generation: 1 }, spec });

let version = 0;
function state(pods: V1Pod[], perms: TrafficPermissionObject[]): ClusterState {
  version += 1;
  return {
    pods: new Map(pods.map((p) => [`${p.metadata?.namespace}/${p.metadata?.name}`, p])),
    services: new Map(), endpointSlices: new Map(), namespaces: new Map(), meshes: new Map(),
    trafficPermissions: new Map(perms.map((p) => [`${p.metadata?.namespace}/${p.metadata?.name}`, p])),
    version,
  };
}

const ORDERS = pod('shop', 'orders-1', { app: 'orders', tier: 'backend', version: 'v2' });
const names = (s: ClusterState, p: V1Pod): string[] => compilePolicies(s).forPod(p).map((x) => `${x.namespace}/${x.name}`);

describe('selection', () => {
  test('matchLabels must be a subset of the pod labels; absent or empty selects every pod of the namespace', () => {
    const s = state([ORDERS], [
      perm('shop', 'exact', { action: 'Allow', selector: { matchLabels: { app: 'orders' } } }),
      perm('shop', 'subset', { action: 'Allow', selector: { matchLabels: { app: 'orders', tier: 'backend' } } }),
      perm('shop', 'more-than-pod', { action: 'Allow', selector: { matchLabels: { app: 'orders', zone: 'a' } } }),
      perm('shop', 'other-value', { action: 'Allow', selector: { matchLabels: { app: 'bills' } } }),
      perm('shop', 'absent', { action: 'Deny' }),
      perm('shop', 'empty', { action: 'Allow', selector: {} }),
      perm('shop', 'empty-labels', { action: 'Allow', selector: { matchLabels: {} } }),
    ]);
    assert.deepEqual(names(s, ORDERS), ['shop/absent', 'shop/empty', 'shop/empty-labels', 'shop/exact', 'shop/subset']);
  });

  test('a policy never selects pods of another namespace, whatever its labels', () => {
    const s = state([ORDERS], [perm('bills', 'all', { action: 'Deny' }), perm('bills', 'orders', { action: 'Deny', selector: { matchLabels: { app: 'orders' } } })]);
    assert.deepEqual(names(s, ORDERS), []);
  });

  test('matchExpressions: In, NotIn, Exists, DoesNotExist (all must hold, with matchLabels)', () => {
    const s = state([ORDERS], [
      perm('shop', 'in', { action: 'Allow', selector: { matchExpressions: [{ key: 'version', operator: 'In', values: ['v1', 'v2'] }] } }),
      perm('shop', 'in-no', { action: 'Allow', selector: { matchExpressions: [{ key: 'version', operator: 'In', values: ['v1'] }] } }),
      perm('shop', 'notin', { action: 'Allow', selector: { matchExpressions: [{ key: 'version', operator: 'NotIn', values: ['v1'] }] } }),
      perm('shop', 'notin-no', { action: 'Allow', selector: { matchExpressions: [{ key: 'version', operator: 'NotIn', values: ['v2'] }] } }),
      perm('shop', 'notin-absent-key', { action: 'Allow', selector: { matchExpressions: [{ key: 'zone', operator: 'NotIn', values: ['a'] }] } }),
      perm('shop', 'exists', { action: 'Allow', selector: { matchExpressions: [{ key: 'tier', operator: 'Exists' }] } }),
      perm('shop', 'exists-no', { action: 'Allow', selector: { matchExpressions: [{ key: 'zone', operator: 'Exists' }] } }),
      perm('shop', 'dne', { action: 'Allow', selector: { matchExpressions: [{ key: 'zone', operator: 'DoesNotExist' }] } }),
      perm('shop', 'dne-no', { action: 'Allow', selector: { matchExpressions: [{ key: 'tier', operator: 'DoesNotExist' }] } }),
      perm('shop', 'both-no', { action: 'Allow', selector: { matchLabels: { app: 'bills' }, matchExpressions: [{ key: 'tier', operator: 'Exists' }] } }),
    ]);
    assert.deepEqual(names(s, ORDERS), ['shop/dne', 'shop/exists', 'shop/in', 'shop/notin', 'shop/notin-absent-key']);
  });

  test('a label key named like an Object.prototype member is not "present" on a pod without it', () => {
    assert.equal(selects({ matchLabels: {}, matchExpressions: [{ key: 'constructor', operator: 'Exists', values: [] }] }, { app: 'x' }), false);
    assert.equal(selects({ matchLabels: { toString: 'x' }, matchExpressions: [] }, {}), false);
  });

  test('an invalid Deny with an unreadable selector reaches every pod of its namespace (fail closed); an invalid one with a readable selector only its pods', () => {
    const bills = pod('shop', 'bills-1', { app: 'bills' });
    const s = state([ORDERS, bills], [
      perm('shop', 'bad-selector', { action: 'Deny', selector: { matchExpressions: [{ key: 'app', operator: 'Like', values: ['b*'] }] } }),
      perm('shop', 'bad-path', { action: 'Deny', selector: { matchLabels: { app: 'bills' } }, to: [{ paths: ['/a/../b'] }] }),
    ]);
    assert.deepEqual(names(s, ORDERS), ['shop/bad-selector']);
    assert.deepEqual(names(s, bills), ['shop/bad-path', 'shop/bad-selector']);
    for (const r of compilePolicies(s).forPod(bills)) assert.deepEqual([r.action, r.from, r.to], [Action.ACTION_DENY, [], []]);
  });

  test('a pod that is not in the state gets no policies', () => {
    assert.deepEqual(compilePolicies(state([], [perm('shop', 'a', { action: 'Deny' })])).forPod(undefined), []);
  });
});

describe('Snapshot.policies', () => {
  const ctx = { trustDomain: 'cluster.local', trustAnchorsPem: [] };

  test('the caller pod gets its own policies, sorted by name, and they survive the wire encoding', () => {
    const s = state([ORDERS, pod('shop', 'front-1', { app: 'front' })], [
      perm('shop', 'z-deny-admin', { action: 'Deny', selector: { matchLabels: { app: 'orders' } }, to: [{ paths: ['/admin/*'] }] }),
      perm('shop', 'a-allow-front', { action: 'Allow', selector: { matchLabels: { app: 'orders' } }, from: [{ serviceAccounts: ['shop/front-1'] }], to: [{ ports: [8080], methods: ['GET'] }] }),
      perm('shop', 'front-only', { action: 'Allow', selector: { matchLabels: { app: 'front' } } }),
    ]);
    const snap = buildSnapshot(s, { namespace: 'shop', podName: 'orders-1' }, ctx);
    assert.deepEqual(snap.policies.map((p) => p.name), ['a-allow-front', 'z-deny-admin']);
    const decoded = discovery.Snapshot.decode(encodeSnapshot(new SnapshotBuilder().build(s, { namespace: 'shop', podName: 'orders-1' }, ctx)));
    assert.deepEqual(decoded.policies, [
      { name: 'a-allow-front', namespace: 'shop', selectorMatchLabels: { app: 'orders' }, action: Action.ACTION_ALLOW, from: [{ serviceAccounts: ['shop/front-1'], namespaces: [] }], to: [{ ports: [8080], methods: ['GET'], paths: [] }] },
      { name: 'z-deny-admin', namespace: 'shop', selectorMatchLabels: { app: 'orders' }, action: Action.ACTION_DENY, from: [], to: [{ ports: [], methods: [], paths: ['/admin/*'] }] },
    ]);
    assert.equal(decoded.version, snap.version);
    assert.deepEqual(buildSnapshot(s, { namespace: 'shop', podName: 'front-1' }, ctx).policies.map((p) => p.name), ['front-only']);
  });

  test('the version moves with the caller\'s own policies only: a policy for another pod leaves it as it was', () => {
    const base = [perm('shop', 'a', { action: 'Allow', selector: { matchLabels: { app: 'orders' } } })];
    const b = new SnapshotBuilder();
    const v1 = b.build(state([ORDERS], base), { namespace: 'shop', podName: 'orders-1' }, ctx).version;
    const v2 = b.build(state([ORDERS], [...base, perm('shop', 'other', { action: 'Deny', selector: { matchLabels: { app: 'bills' } } })]), { namespace: 'shop', podName: 'orders-1' }, ctx).version;
    assert.equal(v2, v1);
    const v3 = b.build(state([ORDERS], [perm('shop', 'a', { action: 'Allow', selector: { matchLabels: { app: 'orders' } }, to: [{ ports: [9090] }] }, '2')]), { namespace: 'shop', podName: 'orders-1' }, ctx).version;
    assert.notEqual(v3, v1);
    const v4 = b.build(state([ORDERS], []), { namespace: 'shop', podName: 'orders-1' }, ctx);
    assert.notEqual(v4.version, v1);
    assert.deepEqual(v4.policies, []);
  });
});

describe('warnings about opaque ports', () => {
  test('methods or paths on a port in skein.io/opaque-ports, an opaque-named port, or the sidecar default list', () => {
    const redis = pod('shop', 'redis-1', { app: 'redis' }, { opaque: '7000', ports: [{ name: 'redis', containerPort: 6380 }, { name: 'http', containerPort: 8080 }] });
    const s = state([redis], [
      perm('shop', 'by-annotation', { action: 'Allow', selector: { matchLabels: { app: 'redis' } }, to: [{ ports: [7000], methods: ['GET'] }] }),
      perm('shop', 'by-name', { action: 'Deny', selector: { matchLabels: { app: 'redis' } }, to: [{ ports: [6380], paths: ['/x'] }] }),
      perm('shop', 'by-default', { action: 'Allow', to: [{ ports: [6379], methods: ['GET'] }] }),
      perm('shop', 'no-ports', { action: 'Allow', selector: { matchLabels: { app: 'redis' } }, to: [{ methods: ['GET'] }] }),
      perm('shop', 'http-port', { action: 'Allow', selector: { matchLabels: { app: 'redis' } }, to: [{ ports: [8080], methods: ['GET'] }] }),
      perm('shop', 'l4-only', { action: 'Allow', selector: { matchLabels: { app: 'redis' } }, to: [{ ports: [7000] }] }),
      perm('shop', 'other-pods', { action: 'Allow', selector: { matchLabels: { app: 'web' } }, to: [{ ports: [7000], methods: ['GET'] }] }),
    ]);
    const w = (n: string): readonly string[] => compilePolicies(s).verdicts.get(`shop/${n}`)?.warnings ?? [];
    assert.match(w('by-annotation').join('\n'), /port 7000, opaque on pod redis-1.*this Allow never allows opaque connections there/);
    assert.match(w('by-name').join('\n'), /port 6380, opaque on pod redis-1.*this Deny denies every opaque connection it selects there/);
    assert.match(w('by-default').join('\n'), /port 6379, which sidecars treat as opaque TCP by default/);
    assert.equal(w('by-default').length, 1, 'not repeated per pod');
    assert.match(w('no-ports').join('\n'), /applies to port 6380.*\n.*applies to port 7000/);
    assert.deepEqual(w('http-port'), []);
    assert.deepEqual(w('l4-only'), []);
    assert.deepEqual(w('other-pods'), []);
    assert.equal(compilePolicies(s).verdicts.get('shop/by-annotation')?.effect, 'enforced', 'a warning does not change what is sent');
  });
});
