// The route index of a snapshot: a Service VIP goes round robin over its ready endpoints with the target
// port resolved (numeric or named), a meshed pod's IP routes to it with its identity, anything else is
// passthrough; the inbound protocol hints come from the pod's own ports.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MtlsMode, Protocol } from '@skein/api';
import { buildMeshView, canonicalIp } from './mesh-view.js';
import { snapshotOf } from './testing/fake-cp.js';

const TD = 'cluster.local';
const id = (ns: string, sa: string): string => `spiffe://${TD}/ns/${ns}/sa/${sa}`;
const dst = (address: string, port: number) => ({ address, port, family: address.includes(':') ? 6 as const : 4 as const });

const snapshot = snapshotOf({
  version: 'v1',
  mesh: { name: 'default', mtlsMode: MtlsMode.MTLS_MODE_STRICT, certTtlSeconds: 86400, defaultAction: 1, trustDomain: TD },
  trustAnchorsPem: ['-----BEGIN CERTIFICATE-----\nAA==\n-----END CERTIFICATE-----\n'],
  services: [
    {
      name: 'orders', namespace: 'shop', clusterIps: ['10.96.0.10', 'fd00:10:96::A'], loadBalancer: undefined,
      ports: [
        { name: 'http', port: 80, targetPort: 8080, protocol: Protocol.PROTOCOL_HTTP },
        { name: 'metrics', port: 9090, targetPort: 0, protocol: Protocol.PROTOCOL_UNSPECIFIED },
      ],
      endpoints: [
        { ip: '10.244.0.5', ports: { http: 8080, metrics: 9100 }, ready: true, spiffeId: id('shop', 'orders'), podName: 'orders-a', nodeName: 'n1', podNamespace: 'shop', weight: 0 },
        { ip: '10.244.0.6', ports: { http: 8080, metrics: 9101 }, ready: true, spiffeId: id('shop', 'orders'), podName: 'orders-b', nodeName: 'n1', podNamespace: 'shop', weight: 0 },
        { ip: '10.244.0.7', ports: { http: 8080 }, ready: false, spiffeId: id('shop', 'orders'), podName: 'orders-c', nodeName: 'n1', podNamespace: 'shop', weight: 0 },
        // From the IPv6 EndpointSlice of the same Service (orders-a is dual stack).
        { ip: 'FD00:244::5', ports: { http: 8080, metrics: 9100 }, ready: true, spiffeId: id('shop', 'orders'), podName: 'orders-a', nodeName: 'n1', podNamespace: 'shop', weight: 0 },
      ],
    },
    {
      name: 'legacy', namespace: 'shop', clusterIps: ['10.96.0.11'], loadBalancer: undefined,
      ports: [{ name: '', port: 6379, targetPort: 6379, protocol: Protocol.PROTOCOL_TCP }],
      endpoints: [{ ip: '10.244.1.9', ports: {}, ready: true, spiffeId: '', podName: 'redis-0', nodeName: 'n2', podNamespace: 'shop', weight: 0 }],
    },
    {
      name: 'empty', namespace: 'shop', clusterIps: ['10.96.0.12'], loadBalancer: undefined,
      ports: [{ name: 'http', port: 80, targetPort: 80, protocol: Protocol.PROTOCOL_HTTP }],
      endpoints: [{ ip: '10.244.0.8', ports: {}, ready: false, spiffeId: '', podName: 'x', nodeName: 'n1', podNamespace: 'shop', weight: 0 }],
    },
    {
      name: 'headless', namespace: 'shop', clusterIps: ['None'], loadBalancer: undefined,
      ports: [{ name: 'http', port: 80, targetPort: 80, protocol: Protocol.PROTOCOL_HTTP }],
      endpoints: [{ ip: '10.244.0.5', ports: {}, ready: true, spiffeId: id('shop', 'orders'), podName: 'orders-a', nodeName: 'n1', podNamespace: 'shop', weight: 0 }],
    },
  ],
  workloads: [
    { ip: '10.244.0.5', podName: 'orders-a', namespace: 'shop', spiffeId: id('shop', 'orders'), labels: {}, opaquePorts: [], ips: ['10.244.0.5', 'fd00:244::5'] },
    { ip: '10.244.0.6', podName: 'orders-b', namespace: 'shop', spiffeId: id('shop', 'orders'), labels: {}, opaquePorts: [9101], ips: ['10.244.0.6'] },
    { ip: '10.244.2.2', podName: 'db-0', namespace: 'data', spiffeId: id('data', 'db'), labels: {}, opaquePorts: [5432], ips: [] },
  ],
  self: {
    podName: 'web-0', namespace: 'shop', spiffeId: id('shop', 'web'), ips: ['10.244.0.2'],
    inboundPorts: [
      { name: 'http', port: 8080, protocol: Protocol.PROTOCOL_HTTP },
      { name: 'grpc', port: 9000, protocol: Protocol.PROTOCOL_HTTP2 },
      { name: 'redis', port: 6379, protocol: Protocol.PROTOCOL_TCP },
    ],
    opaquePorts: [7000],
  },
});

describe('mesh view', () => {
  const view = buildMeshView(snapshot);

  it('carries the mesh settings and trust anchors of the snapshot', () => {
    assert.equal(view.version, 'v1');
    assert.equal(view.mtlsMode, 'STRICT');
    assert.equal(view.trustDomain, TD);
    assert.equal(view.trustAnchorsPem.length, 1);
    const bare = buildMeshView(snapshotOf({ version: 'v0' }));
    assert.equal(bare.mtlsMode, 'PERMISSIVE', 'the documented default');
    assert.equal(bare.trustDomain, 'cluster.local');
  });

  it('a Service VIP goes round robin over the ready endpoints, to the target port, with their identity', () => {
    const picks = [1, 2, 3, 4].map(() => view.route(dst('10.96.0.10', 80)));
    assert.deepEqual(picks.map((r) => r.host), ['10.244.0.5', '10.244.0.6', '10.244.0.5', '10.244.0.6'], 'the not-ready endpoint is never picked');
    for (const r of picks) {
      assert.equal(r.kind, 'endpoint');
      if (r.kind !== 'endpoint') continue;
      assert.equal(r.port, 8080);
      assert.equal(r.spiffeId, id('shop', 'orders'));
      assert.equal(r.protocol, 'http');
      assert.equal(r.service, 'shop/orders');
    }
  });

  it('a named target port is resolved per endpoint; the endpoint pod\'s opaque ports make it tcp', () => {
    const a = view.route(dst('10.96.0.10', 9090));
    const b = view.route(dst('10.96.0.10', 9090));
    assert.deepEqual([a, b].map((r) => [r.host, r.port, r.kind === 'endpoint' ? r.protocol : '']),
      [['10.244.0.5', 9100, 'detect'], ['10.244.0.6', 9101, 'tcp']]);
  });

  it('the IPv6 cluster IP is found whatever its spelling in the snapshot, and leads only to IPv6 endpoints', () => {
    for (let i = 0; i < 3; i++) {
      const r = view.route(dst('fd00:10:96::a', 80));
      assert.equal(r.kind, 'endpoint');
      assert.equal(r.host, 'fd00:244::5', 'an IPv6 cluster IP is balanced over the IPv6 endpoints only');
      assert.notEqual(view.route(dst('10.96.0.10', 80)).host, 'fd00:244::5', 'and an IPv4 one over the IPv4 endpoints only');
    }
    assert.equal(canonicalIp('FD00:0010:0096:0000::000A'), 'fd00:10:96::a');
    assert.equal(canonicalIp('not-an-ip'), undefined);
  });

  it('an unmeshed endpoint has no identity (plaintext); a TCP Service port is tcp', () => {
    const r = view.route(dst('10.96.0.11', 6379));
    assert.deepEqual(r, { kind: 'endpoint', host: '10.244.1.9', port: 6379, spiffeId: '', protocol: 'tcp', service: 'shop/legacy' });
  });

  it('a meshed pod IP routes to that pod with its identity, by any of its IPs', () => {
    assert.deepEqual(view.route(dst('10.244.2.2', 5432)),
      { kind: 'endpoint', host: '10.244.2.2', port: 5432, spiffeId: id('data', 'db'), protocol: 'tcp' });
    assert.deepEqual(view.route(dst('10.244.2.2', 8080)),
      { kind: 'endpoint', host: '10.244.2.2', port: 8080, spiffeId: id('data', 'db'), protocol: 'detect' });
    const v6 = view.route(dst('fd00:244::5', 8080));
    assert.equal(v6.kind === 'endpoint' && v6.spiffeId, id('shop', 'orders'));
    const mapped = view.route(dst('::ffff:10.244.2.2', 5432));
    assert.equal(mapped.kind === 'endpoint' && mapped.spiffeId, id('data', 'db'), 'an IPv4-mapped address of a dual-stack socket');
  });

  it('anything else is passthrough: unknown IPs, unknown ports of a Service, Services with no ready endpoint, headless', () => {
    for (const [address, port] of [['192.0.2.1', 443], ['10.96.0.10', 443], ['10.96.0.12', 80], ['10.244.1.9', 6379], ['8.8.8.8', 53]] as const) {
      assert.deepEqual(view.route(dst(address, port)), { kind: 'passthrough', host: address, port }, `${address}:${port}`);
    }
  });

  it('inbound protocol hints: HTTP is http, TCP and opaque ports are tcp, HTTP2 and unknown ports detect', () => {
    assert.deepEqual([8080, 9000, 6379, 7000, 1234].map((p) => view.inboundProtocol(p)), ['http', 'detect', 'tcp', 'tcp', 'detect']);
  });

  it('skips malformed entries instead of refusing the snapshot', () => {
    const bad = buildMeshView(snapshotOf({
      version: 'bad',
      services: [{
        name: 's', namespace: 'n', clusterIps: ['10.96.9.9', 'nope'], loadBalancer: undefined,
        ports: [{ name: 'p', port: 80, targetPort: 0, protocol: Protocol.PROTOCOL_HTTP }, { name: 'q', port: 0, targetPort: 1, protocol: 0 }],
        endpoints: [
          { ip: '999.1.1.1', ports: { p: 80 }, ready: true, spiffeId: '', podName: '', nodeName: '', podNamespace: '', weight: 0 },
          { ip: '10.1.1.1', ports: {}, ready: true, spiffeId: '', podName: '', nodeName: '', podNamespace: '', weight: 0 },
          { ip: '10.1.1.2', ports: { p: 81 }, ready: true, spiffeId: '', podName: '', nodeName: '', podNamespace: '', weight: 0 },
        ],
      }],
      workloads: [{ ip: 'garbage', podName: 'w', namespace: 'n', spiffeId: id('n', 'w'), labels: {}, opaquePorts: [], ips: [] }],
    }));
    assert.deepEqual(bad.route(dst('10.96.9.9', 80)), { kind: 'endpoint', host: '10.1.1.2', port: 81, spiffeId: '', protocol: 'http', service: 'n/s' });
    assert.equal(bad.skipped, 5);
  });

  it('the route objects of a Service are built once (no allocation per lookup)', () => {
    const first = view.route(dst('10.96.0.11', 6379));
    assert.equal(view.route(dst('10.96.0.11', 6379)), first);
    assert.ok(Object.isFrozen(first));
  });
});
