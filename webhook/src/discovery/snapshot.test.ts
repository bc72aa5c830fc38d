import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { V1EndpointSlice, V1Pod, V1Service, V1ServicePort } from '@kubernetes/client-node';
import { Action, MtlsMode, Protocol, discovery } from '@skein/api';
import { parseGoDuration } from './duration.js';
import { certTtlSeconds } from './mesh-settings.js';
import { buildSnapshot, encodeSnapshot, SnapshotBuilder } from './snapshot.js';
import type { ClusterState, MeshObject } from './types.js';

const TD = 'cluster.local';
const ctx = { trustDomain: TD, trustAnchorsPem: ['-----BEGIN CERTIFICATE-----\nA\n-----END CERTIFICATE-----\n'] };

function pod(ns: string, name: string, o: { ips?: string[]; sa?: string; meshed?: boolean; ports?: { name?: string; containerPort: number; protocol?: string }[]; opaque?: string; phase?: string; labels?: Record<string, string> } = {}): V1Pod {
  const annotations: Record<string, string> = {};
  if (o.meshed !== false) annotations['skein.io/injected'] = '0.1.0';
  if (o.opaque !== undefined) annotations['skein.io/opaque-ports'] = o.opaque;
  return {
    metadata: { name, namespace: ns, annotations, labels: o.labels ?? { app: name }, resourceVersion: '1' },
    spec: {
      serviceAccountName: o.sa,
      containers: [
        { name: 'skein-proxy', image: 'skein/dataplane', ports: [{ name: 'http-health', containerPort: 15020 }] },
        { name: 'app', image: 'app', ports: o.ports ?? [] },
      ],
    },
    status: { phase: o.phase ?? 'Running', podIP: o.ips?.[0], podIPs: (o.ips ?? []).map((ip) => ({ ip })) },
  };
}

function state(o: { pods?: V1Pod[]; services?: V1Service[]; slices?: V1EndpointSlice[]; mesh?: MeshObject['spec'] }): ClusterState {
  const key = (m: { namespace?: string; name?: string } | undefined): string => `${m?.namespace ?? ''}/${m?.name ?? ''}`;
  return {
    pods: new Map((o.pods ?? []).map((p) => [key(p.metadata), p])),
    services: new Map((o.services ?? []).map((s) => [key(s.metadata), s])),
    endpointSlices: new Map((o.slices ?? []).map((s) => [key(s.metadata), s])),
    namespaces: new Map(),
    meshes: o.mesh ? new Map([['/default', { metadata: { name: 'default' }, spec: o.mesh }]]) : new Map(),
    trafficPermissions: new Map(),
    version: 1,
  };
}

const svc = (ns: string, name: string, ports: V1ServicePort[], ips: string[] = ['10.96.0.10']): V1Service => ({
  metadata: { name, namespace: ns }, spec: { clusterIP: ips[0], clusterIPs: ips, ports },
});

const slice = (ns: string, name: string, service: string, endpoints: V1EndpointSlice['endpoints'], ports: V1EndpointSlice['ports'], addressType = 'IPv4'): V1EndpointSlice => ({
  metadata: { name, namespace: ns, labels: { 'kubernetes.io/service-name': service } }, addressType, endpoints, ports,
});

const caller = { namespace: 'shop', podName: 'front' };

describe('buildSnapshot', () => {
  test('mesh defaults without a Mesh; settings from Mesh "default" with a Go duration', () => {
    const a = buildSnapshot(state({}), caller, ctx);
    assert.deepEqual(a.mesh, { name: 'default', mtlsMode: MtlsMode.MTLS_MODE_PERMISSIVE, certTtlSeconds: 86400, defaultAction: Action.ACTION_ALLOW, trustDomain: TD });
    const b = buildSnapshot(state({ mesh: { mtls: { mode: 'STRICT', certTTL: '1h30m' }, defaultAction: 'Deny' } }), caller, ctx);
    assert.equal(b.mesh?.mtlsMode, MtlsMode.MTLS_MODE_STRICT);
    assert.equal(b.mesh?.certTtlSeconds, 5400);
    assert.equal(b.mesh?.defaultAction, Action.ACTION_DENY);
    assert.notEqual(a.version, b.version);
    assert.deepEqual(b.trustAnchorsPem, ctx.trustAnchorsPem);
  });

  test('Go durations', () => {
    assert.equal(parseGoDuration('24h'), 86400e9);
    assert.equal(parseGoDuration('90m'), 5400e9);
    assert.equal(parseGoDuration('1.5h'), 5400e9);
    assert.equal(parseGoDuration('300ms'), 300e6);
    assert.equal(parseGoDuration('0'), 0);
    assert.equal(parseGoDuration('1d'), undefined);
    assert.equal(parseGoDuration('h'), undefined);
    assert.equal(parseGoDuration('.s'), undefined);
    assert.equal(parseGoDuration(''), undefined);
    assert.equal(certTtlSeconds('2m'), 120);
    assert.equal(certTtlSeconds('10s'), 60, 'clamped to one minute');
    assert.equal(certTtlSeconds('bogus'), 86400);
  });

  test('self: SPIFFE ID from the service account, IPs, app ports with hints (proxy excluded), opaque ports', () => {
    const s = buildSnapshot(state({
      pods: [pod('shop', 'front', {
        sa: 'frontend', ips: ['10.244.0.5', 'fd00::5'], opaque: '3306, 22,bad',
        ports: [{ name: 'http-web', containerPort: 8080 }, { name: 'grpc', containerPort: 9090 }, { name: 'db', containerPort: 3306 }, { name: 'dns', containerPort: 53, protocol: 'UDP' }, { containerPort: 7000 }],
      })],
    }), caller, ctx);
    assert.deepEqual(s.self, {
      podName: 'front', namespace: 'shop', spiffeId: 'spiffe://cluster.local/ns/shop/sa/frontend', ips: ['10.244.0.5', 'fd00::5'],
      inboundPorts: [
        { name: 'db', port: 3306, protocol: Protocol.PROTOCOL_TCP },
        { name: '', port: 7000, protocol: Protocol.PROTOCOL_UNSPECIFIED },
        { name: 'http-web', port: 8080, protocol: Protocol.PROTOCOL_HTTP },
        { name: 'grpc', port: 9090, protocol: Protocol.PROTOCOL_HTTP2 },
      ],
      opaquePorts: [22, 3306],
    });
    const noSa = buildSnapshot(state({ pods: [pod('shop', 'front', { ips: ['10.244.0.5'] })] }), caller, ctx);
    assert.equal(noSa.self?.spiffeId, 'spiffe://cluster.local/ns/shop/sa/default');
  });

  test('service ports: appProtocol wins over the name, named targetPort is 0 and resolved per endpoint, UDP dropped', () => {
    const s = buildSnapshot(state({
      pods: [pod('shop', 'orders-1', { sa: 'orders', ips: ['10.244.0.7'] })],
      services: [svc('shop', 'orders', [
        { name: 'http-api', port: 80, targetPort: 'web', appProtocol: 'tcp' },
        { name: 'web2', port: 81, targetPort: 8081, appProtocol: 'kubernetes.io/h2c' },
        { name: 'redis', port: 6379 },
        { name: 'metrics', port: 9000, appProtocol: 'http' },
        { name: 'dns', port: 53, protocol: 'UDP' },
      ])],
      slices: [slice('shop', 'orders-abc', 'orders',
        [{ addresses: ['10.244.0.7'], conditions: { ready: true }, targetRef: { kind: 'Pod', name: 'orders-1', namespace: 'shop' }, nodeName: 'node-1' }],
        [{ name: 'http-api', port: 8080 }, { name: 'web2', port: 8081 }, { name: 'redis', port: 6379 }, { name: 'metrics', port: 9000 }, { name: 'dns', port: 53, protocol: 'UDP' }])],
    }), caller, ctx);
    const orders = s.services[0];
    assert.ok(orders);
    assert.deepEqual(orders.ports, [
      { name: 'http-api', port: 80, targetPort: 0, protocol: Protocol.PROTOCOL_TCP },
      { name: 'web2', port: 81, targetPort: 8081, protocol: Protocol.PROTOCOL_HTTP2 },
      { name: 'redis', port: 6379, targetPort: 6379, protocol: Protocol.PROTOCOL_TCP },
      { name: 'metrics', port: 9000, targetPort: 9000, protocol: Protocol.PROTOCOL_HTTP },
    ]);
    assert.deepEqual(orders.endpoints, [{
      ip: '10.244.0.7', ports: { 'http-api': 8080, metrics: 9000, redis: 6379, web2: 8081 }, ready: true,
      spiffeId: 'spiffe://cluster.local/ns/shop/sa/orders', podName: 'orders-1', nodeName: 'node-1', podNamespace: 'shop', weight: 0,
    }]);
  });

  test('endpoints: not ready kept as not ready, nil ready is ready, unmeshed pod has no SPIFFE ID, duplicates merged', () => {
    const s = buildSnapshot(state({
      pods: [pod('shop', 'a', { ips: ['10.244.0.1'] }), pod('shop', 'b', { ips: ['10.244.0.2'], meshed: false })],
      services: [svc('shop', 'web', [{ name: 'http', port: 80, targetPort: 8080 }])],
      slices: [
        slice('shop', 'web-1', 'web', [
          { addresses: ['10.244.0.1'], conditions: { ready: false }, targetRef: { kind: 'Pod', name: 'a' } },
          { addresses: ['10.244.0.2'], targetRef: { kind: 'Pod', name: 'b' } },
          { addresses: ['10.244.0.3'], conditions: { ready: true } },
        ], [{ name: 'http', port: 8080 }]),
        slice('shop', 'web-2', 'web', [{ addresses: ['10.244.0.1'], conditions: { ready: true }, targetRef: { kind: 'Pod', name: 'a' } }], [{ name: 'http', port: 8080 }]),
        slice('other', 'web-x', 'web', [{ addresses: ['10.244.9.9'] }], [{ name: 'http', port: 8080 }]),
      ],
    }), caller, ctx);
    const eps = s.services[0]?.endpoints ?? [];
    assert.deepEqual(eps.map((e) => [e.ip, e.ready, e.spiffeId, e.podName]), [
      ['10.244.0.1', true, 'spiffe://cluster.local/ns/shop/sa/default', 'a'],
      ['10.244.0.2', true, '', 'b'],
      ['10.244.0.3', true, '', ''],
    ]);
    const notReady = buildSnapshot(state({
      pods: [pod('shop', 'a', { ips: ['10.244.0.1'] })],
      services: [svc('shop', 'web', [{ name: 'http', port: 80 }])],
      slices: [slice('shop', 'web-1', 'web', [{ addresses: ['10.244.0.1'], conditions: { ready: false }, targetRef: { kind: 'Pod', name: 'a' } }], [{ name: 'http', port: 80 }])],
    }), caller, ctx);
    assert.equal(notReady.services[0]?.endpoints[0]?.ready, false);
  });

  test('dual-stack: both cluster IPs, endpoints from the IPv4 and IPv6 slices, workloads with all pod IPs', () => {
    const s = buildSnapshot(state({
      pods: [pod('shop', 'a', { ips: ['10.244.0.1', 'fd00:10:244::1'] })],
      services: [svc('shop', 'web', [{ name: 'http', port: 80 }], ['10.96.0.20', 'fd00:10:96::20'])],
      slices: [
        slice('shop', 'web-v4', 'web', [{ addresses: ['10.244.0.1'], targetRef: { kind: 'Pod', name: 'a' } }], [{ name: 'http', port: 80 }]),
        slice('shop', 'web-v6', 'web', [{ addresses: ['fd00:10:244::1'], targetRef: { kind: 'Pod', name: 'a' } }], [{ name: 'http', port: 80 }], 'IPv6'),
      ],
    }), caller, ctx);
    assert.deepEqual(s.services[0]?.clusterIps, ['10.96.0.20', 'fd00:10:96::20']);
    assert.deepEqual(s.services[0]?.endpoints.map((e) => e.ip), ['10.244.0.1', 'fd00:10:244::1']);
    assert.deepEqual(s.workloads.map((w) => [w.ip, w.ips]), [['10.244.0.1', ['10.244.0.1', 'fd00:10:244::1']]]);
  });

  test('headless and ExternalName Services are left out; workloads are meshed, addressed, live pods only', () => {
    const s = buildSnapshot(state({
      pods: [
        pod('shop', 'm', { ips: ['10.244.0.1'], opaque: '5432', labels: { app: 'm', tier: 'db' } }),
        pod('shop', 'plain', { ips: ['10.244.0.2'], meshed: false }),
        pod('shop', 'pending', {}),
        pod('shop', 'done', { ips: ['10.244.0.3'], phase: 'Succeeded' }),
      ],
      services: [
        { metadata: { name: 'headless', namespace: 'shop' }, spec: { clusterIP: 'None', clusterIPs: ['None'], ports: [{ port: 80 }] } },
        { metadata: { name: 'ext', namespace: 'shop' }, spec: { type: 'ExternalName', externalName: 'example.com' } },
      ],
    }), caller, ctx);
    assert.deepEqual(s.services, []);
    assert.deepEqual(s.workloads, [{
      ip: '10.244.0.1', ips: ['10.244.0.1'], podName: 'm', namespace: 'shop', spiffeId: 'spiffe://cluster.local/ns/shop/sa/default',
      labels: { app: 'm', tier: 'db' }, opaquePorts: [5432],
    }]);
  });

  test('encodeSnapshot (caller fields + the shared bytes) decodes to the same snapshot as the plain encoding', () => {
    const s = buildSnapshot(state({
      pods: [pod('shop', 'front', { sa: 'web', ips: ['10.244.0.5'], ports: [{ name: 'http', containerPort: 8080 }], opaque: '3306' })],
      services: [svc('shop', 'web', [{ name: 'http', port: 80 }])],
      slices: [slice('shop', 'web-1', 'web', [{ addresses: ['10.244.0.5'], targetRef: { kind: 'Pod', name: 'front' } }], [{ name: 'http', port: 80 }])],
      mesh: { mtls: { mode: 'STRICT' } },
    }), caller, ctx);
    const fast = encodeSnapshot(s);
    assert.deepEqual(discovery.Snapshot.decode(fast), discovery.Snapshot.decode(discovery.Snapshot.encode(s).finish()));
    assert.deepEqual(discovery.Snapshot.decode(fast), s);
    const foreign = { ...s };
    assert.deepEqual(discovery.Snapshot.decode(encodeSnapshot(foreign)), s, 'a snapshot not built here is encoded plainly');
  });

  test('a "__proto__" label or port name is an ordinary key (nothing else changes)', () => {
    const labels = JSON.parse('{"__proto__":"x","app":"m"}') as Record<string, string>;
    const ports = JSON.parse('[{"name":"__proto__","port":8080}]') as V1EndpointSlice['ports'];
    const s = buildSnapshot(state({
      pods: [pod('shop', 'm', { ips: ['10.244.0.1'], labels })],
      services: [svc('shop', 'web', [{ name: 'http', port: 80 }])],
      slices: [slice('shop', 'web-1', 'web', [{ addresses: ['10.244.0.1'] }], ports)],
    }), caller, ctx);
    assert.deepEqual(Object.keys(s.workloads[0]?.labels ?? {}), ['__proto__', 'app']);
    assert.equal(Object.getPrototypeOf(s.workloads[0]?.labels), Object.prototype);
    assert.equal(Object.getOwnPropertyDescriptor(s.services[0]?.endpoints[0]?.ports, '__proto__')?.value, 8080);
    assert.equal(({} as Record<string, unknown>).x, undefined);
  });

  test('version: deterministic whatever the map order, changes with content and with the caller', () => {
    const pods = [pod('shop', 'a', { ips: ['10.244.0.1'] }), pod('shop', 'b', { ips: ['10.244.0.2'] }), pod('shop', 'front', { ips: ['10.244.0.3'] })];
    const services = [svc('shop', 'x', [{ name: 'http', port: 80 }], ['10.96.0.1']), svc('shop', 'y', [{ name: 'http', port: 80 }], ['10.96.0.2'])];
    const one = buildSnapshot(state({ pods, services }), caller, ctx);
    const two = buildSnapshot(state({ pods: [...pods].reverse(), services: [...services].reverse() }), caller, ctx);
    assert.equal(one.version, two.version);
    assert.deepEqual(one, two);
    const other = buildSnapshot(state({ pods, services }), { namespace: 'shop', podName: 'a' }, ctx);
    assert.notEqual(other.version, one.version);
    const anchors = buildSnapshot(state({ pods, services }), caller, { ...ctx, trustAnchorsPem: [...ctx.trustAnchorsPem, 'B'] });
    assert.notEqual(anchors.version, one.version);
    const builder = new SnapshotBuilder();
    assert.equal(builder.build(state({ pods, services }), caller, ctx).version, one.version);
    assert.equal(builder.build(state({ pods, services }), { namespace: 'shop', podName: 'a' }, ctx).version, other.version);
  });
});
