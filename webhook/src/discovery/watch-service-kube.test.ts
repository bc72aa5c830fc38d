// Discovery.Watch in Kubernetes mode, end to end inside skein-cp: the in-memory API server (TokenReview,
// list + watch), skein-cp's own KubeIo connection, the informers, the TokenReview verifier and the Watch
// service over a loopback grpc-js server.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import * as k8s from '@kubernetes/client-node';
import { DiscoveryClient, type Snapshot } from '@skein/api';
import { Registry } from 'prom-client';
import { kubeTokenVerifier } from '../identity/token/index.js';
import { connect } from '../kube/client.js';
import { PODS } from '../kube/testing/apiserver/kinds-discovery.js';
import { FakeApiServer } from '../kube/testing/apiserver/server.js';
import { kubeInformerSource } from './kube-informers.js';
import { podLookupFrom } from './pod-lookup.js';
import { memoryLogger } from './testing.js';
import type { ClusterSource } from './types.js';
import { createDiscoveryService, DISCOVERY_SERVICE_DEFINITION, type DiscoveryService as Service } from './watch-service.js';

async function nextMessage(got: Snapshot[], i: number, ms = 10_000): Promise<Snapshot> {
  const deadline = Date.now() + ms;
  while (got.length <= i) {
    if (Date.now() > deadline) throw new Error(`no message #${i}`);
    await new Promise((r) => setTimeout(r, 20));
  }
  return got[i] as Snapshot;
}

describe('Discovery.Watch in Kubernetes mode (in-memory API server)', () => {
  let api: FakeApiServer;
  let dir: string;
  let source: ClusterSource;
  let service: Service;
  let server: grpc.Server;
  let client: DiscoveryClient;
  let core: k8s.CoreV1Api;
  let discoveryApi: k8s.DiscoveryV1Api;
  let uid: string;

  before(async () => {
    api = await FakeApiServer.start({ namespaces: ['default', 'shop'] });
    const seeded = api.seed(PODS, {
      apiVersion: 'v1', kind: 'Pod', metadata: { name: 'front', namespace: 'shop', annotations: { 'skein.io/injected': '0.1.0' } },
      spec: { serviceAccountName: 'web', containers: [{ name: 'app', image: 'nginx:1.27', ports: [{ name: 'http', containerPort: 8080 }] }] },
    });
    uid = String((seeded.metadata as { uid: string }).uid);
    dir = mkdtempSync(join(tmpdir(), 'skein-discovery-kube-'));
    const io = await connect(await api.writeKubeconfig(dir));
    const { log } = memoryLogger();
    source = kubeInformerSource({ io, log, backoff: { baseMs: 50, maxMs: 200 } });
    await source.start();
    service = createDiscoveryService({
      source, verifier: kubeTokenVerifier({ io, trustDomain: 'cluster.local', pods: podLookupFrom(source) }),
      trustDomain: 'cluster.local', trustAnchors: () => ['ROOT'], onTrustAnchorsChange: () => () => undefined, log, metrics: { registry: new Registry() },
    });
    server = new grpc.Server();
    server.addService(DISCOVERY_SERVICE_DEFINITION, service);
    const port = await new Promise<number>((resolve, reject) => server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (e, p) => (e ? reject(e) : resolve(p))));
    client = new DiscoveryClient(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
    const kc = new k8s.KubeConfig();
    kc.loadFromString(api.kubeconfig());
    core = kc.makeApiClient(k8s.CoreV1Api);
    discoveryApi = kc.makeApiClient(k8s.DiscoveryV1Api);
  });

  after(async () => {
    client.close();
    service.closeAll();
    server.forceShutdown();
    await source.stop();
    await api.close();
    rmSync(dir, { recursive: true, force: true });
  });

  test('a TokenReview-verified sidecar gets its snapshot, then Services and endpoints as they are written, also across a dropped watch', async () => {
    const token = api.tokens.mint({ namespace: 'shop', serviceAccount: 'web', pod: { name: 'front', uid }, audiences: ['skein-cp'] });
    const got: Snapshot[] = [];
    const stream = client.watch({ token, podName: 'front', podNamespace: 'shop', podIp: '', nodeName: '', lastVersion: '' });
    stream.on('data', (s: Snapshot) => got.push(s));
    stream.on('error', () => undefined);
    const first = await nextMessage(got, 0);
    assert.equal(first.self?.spiffeId, 'spiffe://cluster.local/ns/shop/sa/web');
    assert.deepEqual(first.self?.inboundPorts.map((p) => p.port), [8080]);
    assert.deepEqual(first.services, []);

    const svc = await core.createNamespacedService({ namespace: 'shop', body: { metadata: { name: 'orders' }, spec: { ports: [{ name: 'http', port: 80, targetPort: 'http' }] } } });
    await discoveryApi.createNamespacedEndpointSlice({
      namespace: 'shop',
      body: {
        metadata: { name: 'orders-1', labels: { 'kubernetes.io/service-name': 'orders' } }, addressType: 'IPv4',
        endpoints: [{ addresses: ['10.244.0.7'], conditions: { ready: true }, targetRef: { kind: 'Pod', name: 'front', namespace: 'shop' } }],
        ports: [{ name: 'http', port: 8080 }],
      },
    });
    const deadline = Date.now() + 10_000;
    while (!got.some((s) => s.services[0]?.endpoints.length === 1) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    const withEndpoints = got.find((s) => s.services[0]?.endpoints.length === 1);
    assert.ok(withEndpoints, JSON.stringify(got.map((s) => s.services)));
    assert.deepEqual(withEndpoints.services[0]?.clusterIps, [svc.spec?.clusterIP]);
    assert.deepEqual(withEndpoints.services[0]?.endpoints[0]?.ports, { http: 8080 });
    assert.equal(withEndpoints.services[0]?.endpoints[0]?.spiffeId, 'spiffe://cluster.local/ns/shop/sa/web');

    api.dropWatches();
    const before = got.length;
    await core.deleteNamespacedService({ namespace: 'shop', name: 'orders' });
    const after = await nextMessage(got, before);
    assert.deepEqual(after.services, []);
    stream.cancel();
  });

  test('a token of another (existing) pod is refused with PERMISSION_DENIED', async () => {
    const other = api.seed(PODS, {
      apiVersion: 'v1', kind: 'Pod', metadata: { name: 'other', namespace: 'shop' },
      spec: { serviceAccountName: 'web', containers: [{ name: 'app', image: 'nginx:1.27' }] },
    });
    const deadline = Date.now() + 10_000;
    while (!source.state().pods.has('shop/other') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    const token = api.tokens.mint({ namespace: 'shop', serviceAccount: 'web', pod: { name: 'other', uid: String((other.metadata as { uid: string }).uid) }, audiences: ['skein-cp'] });
    const err = await new Promise<grpc.ServiceError>((resolve) => {
      const s = client.watch({ token, podName: 'front', podNamespace: 'shop', podIp: '', nodeName: '', lastVersion: '' });
      s.on('data', () => undefined);
      s.on('error', resolve);
    });
    assert.equal(err.code, grpc.status.PERMISSION_DENIED);
    assert.match(err.details, /belongs to pod shop\/other, not to pod shop\/front/);
  });
});
