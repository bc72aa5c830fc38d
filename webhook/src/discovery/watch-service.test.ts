import assert from 'node:assert/strict';
import { generateKeyPairSync, randomUUID } from 'node:crypto';
import { mkdirSync, mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import { DiscoveryClient, type Snapshot } from '@skein/api';
import { Registry } from 'prom-client';
import { localTokenVerifier } from '../identity/token/index.js';
import { mintLocal } from '../identity/token/testing/local-tokens.js';
import { localStoreSource } from './local-store.js';
import { podLookupFrom } from './pod-lookup.js';
import { memoryLogger, waitForState } from './testing.js';
import type { ClusterSource } from './types.js';
import { createDiscoveryService, DISCOVERY_SERVICE_DEFINITION, type DiscoveryService as Service } from './watch-service.js';

let rv = 100;
type Obj = { kind: string; metadata: { name: string; namespace?: string } & Record<string, unknown> } & Record<string, unknown>;
function put(dir: string, o: Obj): void {
  const folder = join(dir, o.kind, o.metadata.namespace ?? '_cluster');
  mkdirSync(folder, { recursive: true });
  const f = join(folder, `${o.metadata.name}.json`);
  rv += 1;
  writeFileSync(`${f}.tmp`, JSON.stringify({ ...o, metadata: { ...o.metadata, resourceVersion: String(rv) } }));
  renameSync(`${f}.tmp`, f);
}

const uids: Record<string, string> = { a: randomUUID(), b: randomUUID() };
const pod = (name: string, ip: string, extraLabel = ''): Obj => ({
  apiVersion: 'v1', kind: 'Pod',
  metadata: { name, namespace: 'shop', uid: uids[name], labels: { app: name, ...(extraLabel ? { extra: extraLabel } : {}) }, annotations: { 'skein.io/injected': '0.1.0' } },
  spec: { serviceAccountName: 'web', containers: [{ name: 'app', image: 'x', ports: [{ name: 'http', containerPort: 8080 }] }] },
  status: { phase: 'Running', podIP: ip, podIPs: [{ ip }] },
});

/** Messages of one stream, awaited one at a time. */
class Reader {
  readonly messages: Snapshot[] = [];
  private waiters: (() => void)[] = [];
  error: grpc.ServiceError | undefined;
  constructor(readonly stream: grpc.ClientReadableStream<Snapshot>) {
    stream.on('data', (s: Snapshot) => { this.messages.push(s); this.wake(); });
    stream.on('error', (e: grpc.ServiceError) => { this.error = e; this.wake(); });
  }
  private wake(): void { const w = this.waiters; this.waiters = []; for (const f of w) f(); }
  async next(i: number, ms = 10_000): Promise<Snapshot> {
    const deadline = Date.now() + ms;
    while (this.messages.length <= i) {
      if (this.error) throw this.error;
      if (Date.now() > deadline) throw new Error(`no message #${i} within ${ms} ms`);
      await new Promise<void>((r) => { this.waiters.push(r); setTimeout(r, 100); });
    }
    return this.messages[i] as Snapshot;
  }
  async failure(ms = 10_000): Promise<grpc.ServiceError> {
    const deadline = Date.now() + ms;
    while (!this.error && Date.now() < deadline) await new Promise<void>((r) => { this.waiters.push(r); setTimeout(r, 100); });
    if (!this.error) throw new Error('the stream did not fail');
    return this.error;
  }
}

describe('Discovery.Watch over gRPC', () => {
  let dir: string;
  let source: ClusterSource;
  let service: Service;
  let server: grpc.Server;
  let client: DiscoveryClient;
  const registry = new Registry();
  const anchors = ['ROOT'];
  const anchorListeners = new Set<() => void>();
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const token = (name: string): string => mintLocal(privateKey, { namespace: 'shop', serviceAccount: 'web', pod: { name, uid: uids[name] ?? '' } });
  const watch = (podName: string, tok: string, lastVersion = ''): Reader =>
    new Reader(client.watch({ token: tok, podName, podNamespace: 'shop', podIp: '', nodeName: '', lastVersion }));
  const metric = async (name: string): Promise<number> => {
    const m = await registry.getSingleMetric(name)?.get();
    return m?.values.reduce((s, v) => s + v.value, 0) ?? Number.NaN;
  };

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'skein-discovery-watch-'));
    const keyPath = join(dir, 'sa-pub.pem');
    writeFileSync(keyPath, publicKey.export({ type: 'spki', format: 'pem' }));
    const store = join(dir, 'store');
    put(store, pod('a', '10.244.0.1'));
    put(store, pod('b', '10.244.0.2'));
    const { log } = memoryLogger();
    source = localStoreSource({ dir: store, log });
    await source.start();
    service = createDiscoveryService({
      source, verifier: localTokenVerifier({ publicKeyPath: keyPath, trustDomain: 'cluster.local', pods: podLookupFrom(source) }),
      trustDomain: 'cluster.local', trustAnchors: () => [...anchors],
      onTrustAnchorsChange: (l) => { anchorListeners.add(l); return () => anchorListeners.delete(l); }, log, metrics: { registry },
    });
    server = new grpc.Server();
    server.addService(DISCOVERY_SERVICE_DEFINITION, service);
    const port = await new Promise<number>((resolve, reject) => server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (e, p) => (e ? reject(e) : resolve(p))));
    client = new DiscoveryClient(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
  });

  after(async () => {
    client.close();
    service.closeAll();
    server.forceShutdown();
    await source.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  test('first snapshot at once; a push on change; no push when the change does not touch the snapshot', async () => {
    const store = join(dir, 'store');
    const r = watch('a', token('a'));
    const first = await r.next(0);
    assert.equal(first.self?.spiffeId, 'spiffe://cluster.local/ns/shop/sa/web');
    assert.deepEqual(first.self?.ips, ['10.244.0.1']);
    assert.deepEqual(first.workloads.map((w) => w.podName), ['a', 'b']);
    assert.deepEqual(first.trustAnchorsPem, ['ROOT']);
    assert.equal(await metric('skein_cp_connected_sidecars'), 1);

    // A Namespace and a re-written pod with the same content: the source changes, the snapshot does not.
    put(store, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'shop' } });
    put(store, pod('b', '10.244.0.2'));
    await waitForState(source, (s) => s.namespaces.has('/shop') && s.pods.get('shop/b')?.metadata?.resourceVersion === String(rv), 'no-op changes seen');
    const pushesBefore = await metric('skein_cp_snapshot_pushes_total');
    // Then a real change: the next message on the stream must be this one (nothing was sent for the no-ops).
    put(store, { apiVersion: 'v1', kind: 'Service', metadata: { name: 'orders', namespace: 'shop' }, spec: { clusterIP: '10.96.0.5', clusterIPs: ['10.96.0.5'], ports: [{ name: 'http', port: 80 }] } });
    const second = await r.next(1);
    assert.deepEqual(second.services.map((s) => s.name), ['orders']);
    assert.notEqual(second.version, first.version);
    assert.equal(r.messages.length, 2);
    assert.equal(await metric('skein_cp_snapshot_pushes_total'), pushesBefore + 1);

    // A change of another pod's labels reaches this caller too (workloads carry labels).
    put(store, pod('b', '10.244.0.2', 'x'));
    const third = await r.next(2);
    assert.equal(third.workloads.find((w) => w.podName === 'b')?.labels.extra, 'x');
    r.stream.cancel();
    const deadline = Date.now() + 5000;
    while ((await metric('skein_cp_connected_sidecars')) !== 0 && Date.now() < deadline) await new Promise((res) => setTimeout(res, 50));
    assert.equal(await metric('skein_cp_connected_sidecars'), 0, 'a cancelled stream is forgotten');
  });

  test('last_version equal to the current snapshot: nothing sent until something changes', async () => {
    const store = join(dir, 'store');
    const probe = watch('b', token('b'));
    const current = await probe.next(0);
    probe.stream.cancel();
    const r = watch('b', token('b'), current.version);
    put(store, pod('a', '10.244.0.1', 'y'));
    const first = await r.next(0);
    assert.notEqual(first.version, current.version);
    assert.equal(first.workloads.find((w) => w.podName === 'a')?.labels.extra, 'y');
    r.stream.cancel();
  });

  test('refused: another pod\'s token (PERMISSION_DENIED), no token and a forged token (UNAUTHENTICATED)', async () => {
    const wrong = await watch('b', token('a')).failure();
    assert.equal(wrong.code, grpc.status.PERMISSION_DENIED);
    assert.match(wrong.details, /belongs to pod shop\/a, not to pod shop\/b/);
    const none = await watch('a', '').failure();
    assert.equal(none.code, grpc.status.UNAUTHENTICATED);
    const { privateKey: other } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const forged = await watch('a', mintLocal(other, { namespace: 'shop', serviceAccount: 'web', pod: { name: 'a', uid: uids.a ?? '' } })).failure();
    assert.equal(forged.code, grpc.status.UNAUTHENTICATED);
    const unknown = await watch('c', mintLocal(privateKey, { namespace: 'shop', serviceAccount: 'web', pod: { name: 'c', uid: randomUUID() } })).failure();
    assert.equal(unknown.code, grpc.status.PERMISSION_DENIED);
  });

  test('a trust anchor change (root rotation) is pushed with the old and new roots', async () => {
    const r = watch('a', token('a'));
    const first = await r.next(0);
    assert.deepEqual(first.trustAnchorsPem, ['ROOT']);
    anchors.push('NEW-ROOT');
    for (const l of anchorListeners) l();
    const second = await r.next(1);
    assert.deepEqual(second.trustAnchorsPem, ['ROOT', 'NEW-ROOT']);
    r.stream.cancel();
  });

  test('closeAll ends every stream with UNAVAILABLE', async () => {
    const r = watch('a', token('a'));
    await r.next(0);
    service.closeAll();
    const e = await r.failure();
    assert.equal(e.code, grpc.status.UNAVAILABLE);
  });
});
