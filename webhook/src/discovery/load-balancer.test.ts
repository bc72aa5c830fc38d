import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { V1EndpointSlice, V1Pod, V1Service } from '@kubernetes/client-node';
import { discovery } from '@skein/api';
import { parseLoadBalancer, parseWeight, type InvalidLoadBalancer } from './load-balancer.js';
import { SnapshotBuilder } from './snapshot.js';
import type { ClusterState } from './types.js';

const P = discovery.LoadBalancerPolicy;

describe('skein.io/load-balancer', () => {
  test('each documented value', () => {
    assert.equal(parseLoadBalancer(undefined), undefined);
    const cases: [string, number, string][] = [
      ['round-robin', P.LOAD_BALANCER_POLICY_ROUND_ROBIN, ''],
      ['least-request', P.LOAD_BALANCER_POLICY_LEAST_REQUEST, ''],
      ['weighted', P.LOAD_BALANCER_POLICY_WEIGHTED, ''],
      ['hash:header:X-User-Id', P.LOAD_BALANCER_POLICY_HASH_HEADER, 'x-user-id'],
      ['hash:cookie:Session', P.LOAD_BALANCER_POLICY_HASH_COOKIE, 'Session'],
      ['hash:source-ip', P.LOAD_BALANCER_POLICY_HASH_SOURCE_IP, ''],
      [' least-request ', P.LOAD_BALANCER_POLICY_LEAST_REQUEST, ''],
    ];
    for (const [value, policy, hashKey] of cases) assert.deepEqual(parseLoadBalancer(value), { policy, hashKey, invalidAnnotation: '' }, value);
  });
  test('bad values: round robin and the annotation as written', () => {
    for (const bad of ['', 'random', 'Round-Robin', 'hash:header:', 'hash:header:a b', 'hash:cookie:', 'hash:ip', 'hash:header:x:y', 'least_request']) {
      assert.deepEqual(parseLoadBalancer(bad), { policy: P.LOAD_BALANCER_POLICY_ROUND_ROBIN, hashKey: '', invalidAnnotation: bad }, bad);
    }
  });
});

describe('skein.io/weight', () => {
  test('1-1000, anything else is 0 (not given)', () => {
    assert.equal(parseWeight('1'), 1);
    assert.equal(parseWeight('250'), 250);
    assert.equal(parseWeight('1000'), 1000);
    for (const bad of [undefined, '', '0', '1001', '-5', '2.5', 'ten', '1e3', '99999']) assert.equal(parseWeight(bad), 0, String(bad));
  });
});

describe('in the snapshot', () => {
  const pod = (name: string, ip: string, weight?: string): V1Pod => ({
    metadata: { name, namespace: 'shop', annotations: { 'skein.io/injected': '0.1.0', ...(weight ? { 'skein.io/weight': weight } : {}) }, resourceVersion: '1' },
    spec: { containers: [{ name: 'app', image: 'app' }] },
    status: { phase: 'Running', podIP: ip, podIPs: [{ ip }] },
  });
  const service = (annotation: string | undefined): V1Service => ({
    metadata: { name: 'orders', namespace: 'shop', ...(annotation !== undefined ? { annotations: { 'skein.io/load-balancer': annotation } } : {}) },
    spec: { clusterIP: '10.96.0.10', clusterIPs: ['10.96.0.10'], ports: [{ name: 'http', port: 80, targetPort: 8080 }] },
  });
  const slice: V1EndpointSlice = {
    metadata: { name: 'orders-1', namespace: 'shop', labels: { 'kubernetes.io/service-name': 'orders' } }, addressType: 'IPv4',
    endpoints: [
      { addresses: ['10.0.0.1'], targetRef: { kind: 'Pod', name: 'a', namespace: 'shop' } },
      { addresses: ['10.0.0.2'], targetRef: { kind: 'Pod', name: 'b', namespace: 'shop' } },
    ],
    ports: [{ name: 'http', port: 8080, protocol: 'TCP' }],
  };
  let version = 0;
  const state = (annotation: string | undefined): ClusterState => ({
    pods: new Map([['shop/a', pod('a', '10.0.0.1', '300')], ['shop/b', pod('b', '10.0.0.2')]]),
    services: new Map([['shop/orders', service(annotation)]]),
    endpointSlices: new Map([['shop/orders-1', slice]]),
    namespaces: new Map(), meshes: new Map(), trafficPermissions: new Map(), version: ++version,
  });
  const caller = { namespace: 'shop', podName: 'a' };
  const ctx = { trustDomain: 'cluster.local', trustAnchorsPem: [] };

  test('Service.load_balancer and Endpoint.weight; an invalid annotation reported once per change', () => {
    const reported: InvalidLoadBalancer[] = [];
    const builder = new SnapshotBuilder({ onInvalidLoadBalancer: (bad) => reported.push(bad) });
    const good = builder.build(state('hash:header:x-user'), caller, ctx);
    const orders = good.services.find((s) => s.name === 'orders');
    assert.deepEqual(orders?.loadBalancer, { policy: P.LOAD_BALANCER_POLICY_HASH_HEADER, hashKey: 'x-user', invalidAnnotation: '' });
    assert.deepEqual(orders?.endpoints.map((e) => [e.ip, e.weight]), [['10.0.0.1', 300], ['10.0.0.2', 0]]);
    // It survives the wire.
    const decoded = discovery.Snapshot.decode(discovery.Snapshot.encode(good).finish());
    assert.equal(decoded.services[0]?.loadBalancer?.hashKey, 'x-user');
    assert.equal(decoded.services[0]?.endpoints[0]?.weight, 300);
    assert.equal(reported.length, 0);

    const bad = builder.build(state('sticky'), caller, ctx);
    assert.deepEqual(bad.services[0]?.loadBalancer, { policy: P.LOAD_BALANCER_POLICY_ROUND_ROBIN, hashKey: '', invalidAnnotation: 'sticky' });
    builder.build(state('sticky'), caller, ctx); // another state change, same bad value: not reported again
    assert.deepEqual(reported, [{ service: 'shop/orders', annotation: 'sticky' }]);
    builder.build(state('stickier'), caller, ctx);
    builder.build(state(undefined), caller, ctx);
    builder.build(state('stickier'), caller, ctx); // fixed then broken again: reported again
    assert.deepEqual(reported.map((r) => r.annotation), ['sticky', 'stickier', 'stickier']);
    assert.equal(builder.build(state(undefined), caller, ctx).services[0]?.loadBalancer, undefined);
  });
});
