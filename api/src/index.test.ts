// Round-trips through the generated codecs: the shapes the control plane and dataplane rely on (maps,
// enums, nested repeated fields, stream flags) survive encode/decode. That gen/ is up to date with the
// .proto files is gen.test.ts's job.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  CertifyRequest, Snapshot, MtlsMode, Action, DiscoveryService, IdentityService, HealthService,
} from './index.js';

test('CertifyRequest survives encode/decode', () => {
  const msg = CertifyRequest.fromPartial({ token: 'tok', csrPem: '-----BEGIN CERTIFICATE REQUEST-----', requestedTtlSeconds: 3600 });
  const back = CertifyRequest.decode(CertifyRequest.encode(msg).finish());
  assert.deepEqual(back, msg);
});

test('Snapshot keeps maps, enums and nested repeated fields', () => {
  const snap = Snapshot.fromPartial({
    version: 'v7',
    mesh: { name: 'default', mtlsMode: MtlsMode.MTLS_MODE_STRICT, defaultAction: Action.ACTION_DENY, certTtlSeconds: 86400, trustDomain: 'cluster.local' },
    services: [{ name: 'orders', namespace: 'shop', clusterIps: ['10.96.0.10'], ports: [{ name: 'http', port: 80, targetPort: 8080 }],
      endpoints: [{ ip: '10.244.0.5', ports: { http: 8080 }, ready: true, spiffeId: 'spiffe://cluster.local/ns/shop/sa/orders' }] }],
    policies: [{ name: 'p', namespace: 'shop', selectorMatchLabels: { app: 'orders' }, action: Action.ACTION_ALLOW,
      from: [{ serviceAccounts: ['shop/frontend'] }], to: [{ ports: [8080], methods: ['GET'], paths: ['/orders/*'] }] }],
  });
  const back = Snapshot.decode(Snapshot.encode(snap).finish());
  assert.deepEqual(back, snap);
  assert.equal(back.services[0]?.endpoints[0]?.ports['http'], 8080);
});

test('service definitions carry the wire paths skein-dp will call', () => {
  assert.equal(IdentityService.certify.path, '/skein.v1.Identity/Certify');
  assert.equal(DiscoveryService.watch.path, '/skein.v1.Discovery/Watch');
  assert.equal(DiscoveryService.watch.responseStream, true);
  assert.equal(HealthService.check.path, '/grpc.health.v1.Health/Check');
});
