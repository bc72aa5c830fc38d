import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Pod, Service } from '../model/types.js';
import { endpointSlicesFor } from './endpoint-slices.js';

const pod = (name: string, ips: string[], ready: boolean, port = 8080, labels = { app: 'web' }): Pod => ({
  apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: 'shop', uid: `uid-${name}`, labels },
  spec: { containers: [{ name: 'c', image: 'x', ports: [{ name: 'http', containerPort: port }] }] },
  status: {
    phase: 'Running', podIP: ips[0], podIPs: ips.map((ip) => ({ ip })),
    conditions: [{ type: 'Ready', status: ready ? 'True' : 'False' }],
  },
} as Pod);

const svc = (spec: Partial<Service['spec']>): Service => ({
  apiVersion: 'v1', kind: 'Service', metadata: { name: 'web', namespace: 'shop', uid: 'svc-uid' },
  spec: { selector: { app: 'web' }, clusterIP: '10.96.0.10', clusterIPs: ['10.96.0.10'], ports: [{ name: 'http', port: 80, targetPort: 'http', protocol: 'TCP' }], ...spec },
});

test('ready and not-ready pods are listed with their condition, named target ports resolved per pod', () => {
  const slices = endpointSlicesFor(svc({}), [pod('a', ['10.244.0.2'], true), pod('b', ['10.244.0.3'], false), pod('c', ['10.244.0.4'], true, 9090)]);
  assert.equal(slices.length, 2, 'two port mappings (8080 and 9090) need two slices');
  const [first, second] = slices;
  assert.equal(first!.metadata.name, 'web-ipv4');
  assert.equal(second!.metadata.name, 'web-ipv4-1');
  const all = slices.flatMap((s) => s.endpoints.map((e) => ({ ip: e.addresses[0], ready: e.conditions.ready, port: s.ports[0]!.port })));
  assert.deepEqual(all.sort((x, y) => x.ip!.localeCompare(y.ip!)), [
    { ip: '10.244.0.2', ready: true, port: 8080 }, { ip: '10.244.0.3', ready: false, port: 8080 }, { ip: '10.244.0.4', ready: true, port: 9090 },
  ]);
  assert.equal(first!.metadata.labels!['kubernetes.io/service-name'], 'web');
  assert.equal(first!.endpoints[0]!.targetRef.uid, 'uid-a');
  assert.equal(first!.addressType, 'IPv4');
});

test('dual stack: one slice per family with that family\'s addresses', () => {
  const slices = endpointSlicesFor(svc({ clusterIPs: ['10.96.0.10', 'fd00:96::a'] }), [pod('a', ['10.244.0.2', 'fd00:244::2'], true)]);
  assert.deepEqual(slices.map((s) => [s.metadata.name, s.addressType, s.endpoints[0]?.addresses[0]]), [
    ['web-ipv4', 'IPv4', '10.244.0.2'], ['web-ipv6', 'IPv6', 'fd00:244::2'],
  ]);
});

test('no selector: no managed slices; no pods: one empty slice; other namespaces and labels ignored', () => {
  assert.deepEqual(endpointSlicesFor(svc({ selector: undefined }), [pod('a', ['10.244.0.2'], true)]), []);
  const empty = endpointSlicesFor(svc({}), [pod('x', ['10.244.0.9'], true, 8080, { app: 'other' } as never)]);
  assert.equal(empty.length, 1);
  assert.deepEqual(empty[0]!.endpoints, []);
});
