import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Pod, Service } from '../model/types.js';
import { serviceRules } from './endpoints.js';

function pod(name: string, ns: string, labels: Record<string, string>, ip: string, ready: boolean, phase: 'Running' | 'Pending' = 'Running'): Pod {
  return {
    apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: ns, labels },
    spec: { containers: [{ name: 'c', ports: [{ name: 'http', containerPort: 8080 }] }] },
    status: { phase, podIP: ip, conditions: [{ type: 'Ready', status: ready ? 'True' : 'False' }] },
  };
}

const svc = (ports: Service['spec']['ports'], selector: Record<string, string> | undefined = { app: 'web' }): Service =>
  ({ apiVersion: 'v1', kind: 'Service', metadata: { name: 'web', namespace: 'shop' }, spec: { clusterIP: '10.251.0.9', selector, ports } });

describe('Service endpoints', () => {
  const pods = [
    pod('a', 'shop', { app: 'web' }, '10.250.0.2', true),
    pod('b', 'shop', { app: 'web' }, '10.250.0.3', false),
    pod('c', 'shop', { app: 'web' }, '10.250.0.4', true, 'Pending'),
    pod('d', 'other', { app: 'web' }, '10.250.0.5', true),
    pod('e', 'shop', { app: 'db' }, '10.250.0.6', true),
    pod('f', 'shop', { app: 'web', v: '2' }, '10.250.0.7', true),
  ];
  it('are the Running and Ready pods of the namespace that match the selector', () => {
    const [r] = serviceRules([svc([{ port: 80, targetPort: 8080 }])], pods);
    assert.deepEqual(r!.endpoints, [{ ip: '10.250.0.2', port: 8080 }, { ip: '10.250.0.7', port: 8080 }]);
    assert.equal(r!.id, 'shop/web:80');
  });
  it('resolve a named targetPort through the pod spec, and default targetPort to port', () => {
    assert.deepEqual(serviceRules([svc([{ port: 80, targetPort: 'http' }])], pods)[0]!.endpoints.map((e) => e.port), [8080, 8080]);
    assert.deepEqual(serviceRules([svc([{ port: 9000 }])], pods)[0]!.endpoints.map((e) => e.port), [9000, 9000]);
    assert.deepEqual(serviceRules([svc([{ port: 80, targetPort: 'grpc' }])], pods)[0]!.endpoints, [], 'a pod without the named port is no endpoint');
  });
  it('a Service without selector has no pod endpoints', () => {
    assert.deepEqual(serviceRules([svc([{ port: 80 }], {})], pods)[0]!.endpoints, []);
  });
  it('a dual-stack Service gets a rule per cluster IP, each DNATed to the pods\' address of its family', () => {
    const dualPod = pod('a', 'shop', { app: 'web' }, '10.250.0.2', true);
    dualPod.status!.podIPs = [{ ip: '10.250.0.2' }, { ip: 'fd00:10:250::2' }];
    const v4only = pod('g', 'shop', { app: 'web' }, '10.250.0.8', true);
    const s = svc([{ port: 80, targetPort: 8080 }]);
    s.spec.clusterIPs = ['10.251.0.9', 'fd00:10:251::9'];
    const rules = serviceRules([s], [dualPod, v4only]);
    assert.deepEqual(rules.map((r) => [r.vip, r.endpoints.map((e) => e.ip)]), [
      ['10.251.0.9', ['10.250.0.2', '10.250.0.8']],
      ['fd00:10:251::9', ['fd00:10:250::2']],
    ]);
  });
});
