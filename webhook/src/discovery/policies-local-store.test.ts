// Local mode: TrafficPermissions written to skein-local's store (<dir>/TrafficPermission/<ns>/<name>.json)
// reach the cluster state and, through Discovery.Watch over gRPC, the Snapshot.policies of the pods they
// select: created, changed, made invalid (sent fail closed), deleted.
import assert from 'node:assert/strict';
import { generateKeyPairSync, randomUUID } from 'node:crypto';
import { mkdirSync, mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import { Action, DiscoveryClient, type Snapshot } from '@skein/api';
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

const uids: Record<string, string> = { orders: randomUUID(), bills: randomUUID() };
const pod = (name: string, ip: string): Obj => ({
  apiVersion: 'v1', kind: 'Pod',
  metadata: { name, namespace: 'shop', uid: uids[name], labels: { app: name }, annotations: { 'skein.io/injected': '0.1.0' } },
  spec: { serviceAccountName: name, containers: [{ name: 'app', image: 'x', ports: [{ name: 'http', containerPort: 8080 }] }] },
  status: { phase: 'Running', podIP: ip, podIPs: [{ ip }] },
});
const perm = (name: string, spec: Record<string, unknown>, ns = 'shop'): Obj => ({ apiVersion: 'skein.io/v1alpha1', kind: 'TrafficPermission', metadata: { name, namespace: ns }, spec });

/** The messages of one stream; next(pred) waits for the first one from `from` on that satisfies pred. */
class Reader {
  readonly messages: Snapshot[] = [];
  error: grpc.ServiceError | undefined;
  constructor(stream: grpc.ClientReadableStream<Snapshot>) {
    stream.on('data', (s: Snapshot) => this.messages.push(s));
    stream.on('error', (e: grpc.ServiceError) => { this.error = e; });
  }
  async until(pred: (s: Snapshot) => boolean, what: string, ms = 10_000): Promise<Snapshot> {
    const deadline = Date.now() + ms;
    for (;;) {
      const last = this.messages.at(-1);
      if (last && pred(last)) return last;
      if (this.error) throw this.error;
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; last policies: ${JSON.stringify(last?.policies)}`);
      await new Promise((r) => setTimeout(r, 20));
    }
  }
}

describe('TrafficPermissions from the local store into Snapshot.policies', () => {
  let dir: string;
  let store: string;
  let source: ClusterSource;
  let service: Service;
  let server: grpc.Server;
  let client: DiscoveryClient;
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const watch = (podName: string): Reader => new Reader(client.watch({
    token: mintLocal(privateKey, { namespace: 'shop', serviceAccount: podName, pod: { name: podName, uid: uids[podName] ?? '' } }),
    podName, podNamespace: 'shop', podIp: '', nodeName: '', lastVersion: '',
  }));

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'skein-policies-local-'));
    const keyPath = join(dir, 'sa-pub.pem');
    writeFileSync(keyPath, publicKey.export({ type: 'spki', format: 'pem' }));
    store = join(dir, 'store');
    put(store, pod('orders', '10.244.0.1'));
    put(store, pod('bills', '10.244.0.2'));
    put(store, perm('orders-from-frontend', { selector: { matchLabels: { app: 'orders' } }, action: 'Allow', from: [{ serviceAccounts: ['shop/frontend'] }], to: [{ methods: ['GET'], paths: ['/orders/*'] }] }));
    const { log } = memoryLogger();
    source = localStoreSource({ dir: store, log });
    await source.start();
    service = createDiscoveryService({
      source, verifier: localTokenVerifier({ publicKeyPath: keyPath, trustDomain: 'cluster.local', pods: podLookupFrom(source) }),
      trustDomain: 'cluster.local', trustAnchors: () => ['ROOT'], onTrustAnchorsChange: () => () => undefined, log, metrics: { registry: new Registry() },
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

  test('the first list carries the TrafficPermission in the state under "<ns>/<name>"', () => {
    assert.deepEqual([...source.state().trafficPermissions.keys()], ['shop/orders-from-frontend']);
  });

  test('each pod\'s stream gets the policies that select it; a change, an invalid version, a deletion follow', async () => {
    const orders = watch('orders');
    const bills = watch('bills');
    const first = await orders.until((s) => s.policies.length === 1, 'the first snapshot of orders');
    assert.deepEqual(first.policies[0], {
      name: 'orders-from-frontend', namespace: 'shop', selectorMatchLabels: { app: 'orders' }, action: Action.ACTION_ALLOW,
      from: [{ serviceAccounts: ['shop/frontend'], namespaces: [] }], to: [{ ports: [], methods: ['GET'], paths: ['/orders/*'] }],
    });
    const billsFirst = await bills.until(() => true, 'the first snapshot of bills');
    assert.deepEqual(billsFirst.policies, [], 'not selected');

    // A Deny for every pod of the namespace: both streams get it.
    put(store, perm('deny-admin', { action: 'Deny', to: [{ paths: ['/admin/*'] }] }));
    await orders.until((s) => s.policies.map((p) => p.name).join() === 'deny-admin,orders-from-frontend', 'orders gets deny-admin');
    await bills.until((s) => s.policies.map((p) => p.name).join() === 'deny-admin', 'bills gets deny-admin');

    // The Deny made invalid (a path with a dot segment): sent as a Deny of everything (fail closed).
    put(store, perm('deny-admin', { action: 'Deny', to: [{ paths: ['/x/../admin'] }] }));
    const closed = await bills.until((s) => s.policies[0]?.to.length === 0, 'bills gets deny-admin as deny-everything');
    assert.deepEqual(closed.policies[0], { name: 'deny-admin', namespace: 'shop', selectorMatchLabels: {}, action: Action.ACTION_DENY, from: [], to: [] });

    // The Allow made invalid (an empty from entry): an Allow that matches nothing, not dropped.
    put(store, perm('orders-from-frontend', { selector: { matchLabels: { app: 'orders' } }, action: 'Allow', from: [{}] }));
    const nothing = await orders.until((s) => s.policies.some((p) => p.name === 'orders-from-frontend' && p.to[0]?.ports[0] === 0), 'orders gets allow-nothing');
    assert.deepEqual(nothing.policies.find((p) => p.name === 'orders-from-frontend'), {
      name: 'orders-from-frontend', namespace: 'shop', selectorMatchLabels: { app: 'orders' }, action: Action.ACTION_ALLOW, from: [], to: [{ ports: [0], methods: [], paths: [] }],
    });

    // A policy in another namespace never reaches shop's pods; a file that does not parse keeps the last good object.
    put(store, perm('deny-all', { action: 'Deny' }, 'other'));
    await waitForState(source, (s) => s.trafficPermissions.has('other/deny-all'), 'other/deny-all seen');
    writeFileSync(join(store, 'TrafficPermission', 'shop', 'deny-admin.json'), '{"kind":"TrafficPer');
    rmSync(join(store, 'TrafficPermission', 'shop', 'orders-from-frontend.json'));
    const last = await orders.until((s) => s.policies.map((p) => p.name).join() === 'deny-admin', 'orders-from-frontend deleted');
    assert.ok(!last.policies.some((p) => p.namespace === 'other'));
    assert.equal(source.state().trafficPermissions.get('shop/deny-admin')?.metadata?.resourceVersion !== undefined, true, 'last good deny-admin kept');
    assert.equal(orders.error, undefined);
    assert.equal(bills.error, undefined);
  });
});
