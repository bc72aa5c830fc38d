import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import * as k8s from '@kubernetes/client-node';
import { ENDPOINT_SLICES, MESHES, PODS, SERVICES } from '../kube/testing/apiserver/kinds-discovery.js';
import { FakeApiServer } from '../kube/testing/apiserver/server.js';
import { kubeInformerSource } from './kube-informers.js';
import { buildSnapshot } from './snapshot.js';
import { memoryLogger, waitForState } from './testing.js';
import type { ClusterSource } from './types.js';

const pod = (name: string): Record<string, unknown> => ({
  apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: 'shop', annotations: { 'skein.io/injected': '0.1.0' } },
  spec: { serviceAccountName: 'web', containers: [{ name: 'app', image: 'nginx:1.27', ports: [{ name: 'http', containerPort: 8080 }] }] },
});

describe('kubeInformerSource against the in-memory API server', () => {
  let api: FakeApiServer;
  let source: ClusterSource;
  let core: k8s.CoreV1Api;
  const logs = memoryLogger();
  const lists = (resource: string): number => api.lists.filter((l) => l.resource === resource).length;
  const watchesOf = (resource: string): { resourceVersion: string }[] => api.watches.requests.filter((r) => r.resource === resource);

  before(async () => {
    api = await FakeApiServer.start({ namespaces: ['default', 'shop'], watch: { watchCacheSize: 100 } });
    api.seed(MESHES, { apiVersion: 'skein.io/v1alpha1', kind: 'Mesh', metadata: { name: 'default' }, spec: { mtls: { mode: 'STRICT' } } });
    api.seed(PODS, pod('a'));
    api.seed(SERVICES, { apiVersion: 'v1', kind: 'Service', metadata: { name: 'web', namespace: 'shop' }, spec: { ports: [{ name: 'http', port: 80, targetPort: 'http' }] } });
    api.seed(ENDPOINT_SLICES, {
      apiVersion: 'discovery.k8s.io/v1', kind: 'EndpointSlice', metadata: { name: 'web-1', namespace: 'shop', labels: { 'kubernetes.io/service-name': 'web' } },
      addressType: 'IPv4', endpoints: [{ addresses: ['10.244.0.1'], conditions: { ready: true }, targetRef: { kind: 'Pod', name: 'a', namespace: 'shop' } }], ports: [{ name: 'http', port: 8080 }],
    });
    const kc = new k8s.KubeConfig();
    kc.loadFromString(api.kubeconfig());
    core = kc.makeApiClient(k8s.CoreV1Api);
    source = kubeInformerSource({ kubeConfig: kc, log: logs.log, backoff: { baseMs: 50, maxMs: 200 }, relistJitterMs: 50 });
    await source.start();
  });

  after(async () => {
    await source.stop();
    await api.close();
  });

  test('the first list of every kind is in the state before start() resolves; the snapshot reads it', async () => {
    const s = source.state();
    assert.ok(s.pods.has('shop/a'));
    assert.ok(s.services.has('shop/web'));
    assert.ok(s.endpointSlices.has('shop/web-1'));
    assert.deepEqual([...s.namespaces.keys()].sort(), ['/default', '/shop']);
    assert.equal(s.meshes.get('/default')?.spec?.mtls?.certTTL, '24h', 'the CRD default applied by the server');
    const snap = buildSnapshot(s, { namespace: 'shop', podName: 'a' }, { trustDomain: 'cluster.local', trustAnchorsPem: [] });
    assert.equal(snap.services[0]?.endpoints[0]?.spiffeId, 'spiffe://cluster.local/ns/shop/sa/web');
    assert.match(snap.services[0]?.clusterIps[0] ?? '', /^10\.96\./);
    for (const r of ['pods', 'services', 'endpointslices', 'namespaces', 'meshes', 'trafficpermissions']) assert.equal(lists(r), 1, `one list of ${r}`);
    assert.equal(api.warnings.length, 0, api.warnings.join('\n'));
  });

  test('writes reach the state through the watch: create, status (pod IPs), delete', async () => {
    await core.createNamespacedPod({ namespace: 'shop', body: pod('b') as k8s.V1Pod });
    await waitForState(source, (s) => s.pods.has('shop/b'), 'pod b');
    const b = await core.readNamespacedPod({ namespace: 'shop', name: 'b' });
    await core.replaceNamespacedPodStatus({ namespace: 'shop', name: 'b', body: { ...b, status: { phase: 'Running', podIP: '10.244.0.2', podIPs: [{ ip: '10.244.0.2' }] } } });
    await waitForState(source, (s) => s.pods.get('shop/b')?.status?.podIP === '10.244.0.2', 'pod b status');
    await core.deleteNamespacedPod({ namespace: 'shop', name: 'b' });
    await waitForState(source, (s) => !s.pods.has('shop/b'), 'pod b deleted');
    assert.equal(lists('pods'), 1, 'no list: all through the watch');
  });

  test('a dropped watch resumes from its last resourceVersion (no list) and gets what changed meanwhile', async () => {
    const before = watchesOf('pods').length;
    const watchesBefore = api.watches.open;
    assert.equal(watchesBefore, 6, 'one watch per kind');
    api.dropWatches();
    // A change while the watches are down (the informers back off before resuming).
    api.seed(PODS, pod('c'));
    await waitForState(source, (s) => s.pods.has('shop/c'), 'pod c after the resume');
    const resumed = watchesOf('pods').slice(before);
    assert.ok(resumed.length >= 1 && resumed.every((w) => w.resourceVersion !== '' && w.resourceVersion !== '0'), JSON.stringify(resumed));
    for (const r of ['pods', 'services', 'endpointslices', 'namespaces', 'meshes', 'trafficpermissions']) assert.equal(lists(r), 1, `still one list of ${r}`);
    assert.ok(logs.lines().some((l) => l.level === 40 && String(l.msg).includes('resuming from the last resourceVersion')));
  });

  test('410 Gone (a restarted watch cache): the informer lists again, and an object deleted meanwhile disappears', async () => {
    const deadline = Date.now() + 10_000;
    while (api.watches.open < 6 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    // A Service written last: the services informer is at the newest version, the pods informer behind it.
    await core.createNamespacedService({ namespace: 'shop', body: { metadata: { name: 'late' }, spec: { ports: [{ port: 80 }] } } });
    await waitForState(source, (s) => s.services.has('shop/late'), 'service late');
    api.restartWatchCache();
    await core.deleteNamespacedPod({ namespace: 'shop', name: 'c' });
    api.seed(PODS, pod('d'));
    await waitForState(source, (s) => !s.pods.has('shop/c') && s.pods.has('shop/d'), 'c gone and d present after the relist');
    assert.ok(lists('pods') >= 2, 'pods were listed again');
    assert.equal(lists('services'), 1, 'services resumed at the version the new cache starts from: no list');
    assert.ok(logs.lines().some((l) => String(l.msg).includes('410 Gone')));
    // Once relisted, a watch of the new cache's versions works: a further write arrives without a list.
    const listsNow = lists('pods');
    api.seed(PODS, pod('e'));
    await waitForState(source, (s) => s.pods.has('shop/e'), 'pod e');
    assert.equal(lists('pods'), listsNow);
  });
});

describe('kubeInformerSource across an API server restart', () => {
  test('connections refused while it is down, then each kind resumes or lists once: no relist storm; changes made meanwhile arrive', async () => {
    const api = await FakeApiServer.start({ namespaces: ['default', 'shop'] });
    const logs = memoryLogger();
    api.seed(PODS, pod('a'));
    const kc = new k8s.KubeConfig();
    kc.loadFromString(api.kubeconfig());
    const source = kubeInformerSource({ kubeConfig: kc, log: logs.log, backoff: { baseMs: 50, maxMs: 400 }, relistJitterMs: 100 });
    try {
      await source.start();
      const listsBefore = api.lists.length;
      const restarting = api.restart(700);
      await new Promise((r) => setTimeout(r, 100));
      api.seed(PODS, pod('b')); // written while the server is down (the store is etcd: it persists)
      await restarting;
      await waitForState(source, (s) => s.pods.has('shop/b'), 'pod b after the restart');
      const deadline = Date.now() + 10_000;
      while (api.watches.open < 6 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      assert.equal(api.watches.open, 6, 'every kind watches again');
      const relists = api.lists.slice(listsBefore);
      const perKind = new Map<string, number>();
      for (const l of relists) perKind.set(l.resource, (perKind.get(l.resource) ?? 0) + 1);
      for (const [kind, n] of perKind) assert.ok(n <= 1, `${kind} listed ${n} times after the restart`);
      const refused = logs.lines().filter((l) => l.level === 40 && String(l.msg).includes('backoff'));
      assert.ok(refused.length >= 5, 'each informer backed off while the server was down');
      const delays = refused.map((l) => Number(l.retryInMs));
      assert.ok(delays.some((d) => d !== delays[0]), `jittered delays: ${delays.join(',')}`);
    } finally {
      await source.stop();
      await api.close();
    }
  });
});
