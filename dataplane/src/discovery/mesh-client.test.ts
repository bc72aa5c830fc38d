// The sidecar's mesh client against a real grpc-js server over TLS on loopback (testing/fake-cp.ts plays
// skein-cp): readiness needs a certificate and a first snapshot, a short TTL renews into a new certificate
// with a new key, skein-cp stopped → retries while the old certificate and snapshot stay, skein-cp back →
// renewal and a reopened stream (sending its last version) that applies the new snapshot.
import assert from 'node:assert/strict';
import { X509Certificate, createPublicKey } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { Protocol } from '@skein/api';
import { pino } from 'pino';
import { parseRunConfig } from '../config/index.js';
import { Backoff } from '../identity/backoff.js';
import { createMetrics, type Metrics } from '../metrics/index.js';
import type { MeshClient } from './index.js';
import { startMeshClientNow } from './mesh-client.js';
import { createCa, FakeControlPlane, servingIdentity, snapshotOf, type TestCa } from './testing/fake-cp.js';

const SPIFFE = 'spiffe://cluster.local/ns/shop/sa/web';

async function waitFor(what: string, condition: () => boolean, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for: ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

async function counter(metrics: Metrics, name: string, labels: Record<string, string> = {}): Promise<number> {
  const metric = (await metrics.registry.getMetricsAsJSON()).find((m) => m.name === name);
  return metric?.values.filter((v) => Object.entries(labels).every(([k, x]) => v.labels[k] === x)).reduce((n, v) => n + v.value, 0) ?? 0;
}

const service = (version: string, endpointIp: string) => snapshotOf({
  version,
  services: [{
    name: 'orders', namespace: 'shop', clusterIps: ['10.96.0.10'], loadBalancer: undefined,
    ports: [{ name: 'http', port: 80, targetPort: 8080, protocol: Protocol.PROTOCOL_HTTP }],
    endpoints: [{ ip: endpointIp, ports: { http: 8080 }, ready: true, spiffeId: 'spiffe://cluster.local/ns/shop/sa/orders', podName: 'o', nodeName: 'n', podNamespace: 'shop', weight: 0 }],
  }],
});

describe('mesh client against a TLS gRPC skein-cp', () => {
  let dir: string;
  let tokenPath: string;
  let cpCaPath: string;
  let token = 'token-1';
  let meshCa: TestCa;
  let servingCaPem: string;
  let cp: FakeControlPlane;
  let client: MeshClient | undefined;
  let metrics: Metrics;
  const logLines: string[] = [];
  const log = pino({ level: 'debug' }, new Writable({ write(chunk: Buffer, _enc, cb) { logLines.push(chunk.toString()); cb(); } }));

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'skein-mesh-client-test-'));
    tokenPath = join(dir, 'token');
    cpCaPath = join(dir, 'control-plane-ca.pem');
    await writeFile(tokenPath, `${token}\n`);
    meshCa = await createCa('skein test mesh root');
    const serving = await servingIdentity();
    servingCaPem = serving.ca.certPem;
    cp = new FakeControlPlane({ serving, meshCa, spiffeId: SPIFFE, token: () => token, defaultTtlSeconds: 3 });
    await cp.start();
  });
  after(async () => {
    client?.stop();
    cp.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  const start = async (): Promise<MeshClient> => {
    const config = parseRunConfig(['--cert-ttl', '3s'], {
      SKEIN_CP_ADDRESS: `127.0.0.1:${cp.port}`, SKEIN_TOKEN_PATH: tokenPath, SKEIN_CP_CA_PATH: cpCaPath,
      POD_NAME: 'web-0', POD_NAMESPACE: 'shop', POD_IP: '10.244.0.2', NODE_NAME: 'n1',
    });
    metrics = createMetrics();
    return startMeshClientNow({ config, log, metrics, backoff: () => new Backoff({ minMs: 50, maxMs: 400 }) });
  };

  it('verifies skein-cp with SKEIN_CP_CA_PATH, re-read on every attempt: another CA is refused, the right one is taken', async () => {
    const other = await createCa('not skein-cp');
    await writeFile(cpCaPath, other.certPem);
    client = await start();
    await waitFor('a refused TLS attempt', () => logLines.some((l) => l.includes('no workload certificate yet')));
    assert.equal(client.identity.current(), undefined);
    assert.equal(cp.certifyRequests.length, 0, 'nothing reached skein-cp over an unverified connection');
    await writeFile(cpCaPath, servingCaPem);
    await waitFor('a certificate', () => client?.identity.current() !== undefined);
  });

  it('is ready only with a certificate and a first snapshot', async () => {
    const c = client as MeshClient;
    const cert = c.identity.current();
    assert.ok(cert);
    assert.equal(cert.spiffeId, SPIFFE);
    assert.equal(c.discovery.current(), undefined, 'nothing published yet');
    assert.equal(c.ready(), false);
    cp.publish(service('v1', '10.244.0.5'));
    await c.whenReady();
    assert.equal(c.ready(), true);
    const route = c.discovery.current()?.route({ address: '10.96.0.10', port: 80, family: 4 });
    assert.deepEqual(route && [route.kind, route.host, route.port], ['endpoint', '10.244.0.5', 8080]);
    // The certificate is for the key the client holds, and the request carried the pod and its token.
    const leaf = new X509Certificate(cert.certChainPem);
    assert.ok(leaf.publicKey.export({ type: 'spki', format: 'der' }).equals(createPublicKey(cert.key).export({ type: 'spki', format: 'der' })));
    assert.equal(leaf.serialNumber, cert.serial);
    assert.deepEqual(cert.trustAnchorsPem, [meshCa.certPem.endsWith('\n') ? meshCa.certPem : `${meshCa.certPem}\n`]);
    const req = cp.watchRequests.at(-1);
    assert.deepEqual(req && [req.podName, req.podNamespace, req.podIp, req.nodeName, req.token], ['web-0', 'shop', '10.244.0.2', 'n1', 'token-1']);
    assert.equal(cp.certifyRequests.at(-1)?.requestedTtlSeconds, 3, '--cert-ttl');
    assert.equal(await counter(metrics, 'skein_dp_discovery_snapshots_total'), 1);
    assert.equal(await counter(metrics, 'skein_dp_cert_expiry_timestamp_seconds'), Math.floor(cert.notAfter.getTime() / 1000));
  });

  it('renews before expiry into a new certificate with a new key, reading the rotated token', async () => {
    const c = client as MeshClient;
    const old = c.identity.current();
    assert.ok(old);
    token = 'token-2';
    await writeFile(tokenPath, token);
    const renewed = await new Promise<NonNullable<ReturnType<typeof c.identity.current>>>((resolve) => {
      const off = c.identity.onChange((cert) => { off(); resolve(cert); });
    });
    assert.notEqual(renewed.serial, old.serial);
    assert.equal(c.identity.current(), renewed);
    assert.ok(renewed.notAfter > old.notAfter);
    assert.ok(old.notAfter.getTime() > Date.now(), 'renewed while the old one was still valid');
    assert.notEqual(renewed.key, old.key);
    assert.equal(cp.certifyRequests.at(-1)?.token, 'token-2');
    assert.ok(await counter(metrics, 'skein_dp_cert_renewals_total', { result: 'ok' }) >= 2);
    assert.ok(logLines.some((l) => l.includes('workload certificate renewed')));
  });

  it('skein-cp stopped: retries, keeps the certificate and the last snapshot; back: renews and the stream reopens', async () => {
    const c = client as MeshClient;
    cp.stop();
    const heldCert = c.identity.current();
    const heldView = c.discovery.current();
    assert.ok(heldCert && heldView);
    const failures = async (): Promise<number> => counter(metrics, 'skein_dp_cert_renewals_total', { result: 'unavailable' });
    const reconnects = await counter(metrics, 'skein_dp_discovery_reconnects_total');
    const deadline = Date.now() + 20_000;
    while ((await failures()) < 2 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    assert.ok(await failures() >= 2, 'renewal attempts failed while skein-cp was down');
    assert.ok(await counter(metrics, 'skein_dp_discovery_reconnects_total') > reconnects, 'the stream was retried');
    assert.equal(c.discovery.current(), heldView, 'the last snapshot stays (never fails open)');
    assert.equal(c.identity.current(), heldCert, 'the certificate stays (fail static)');
    assert.equal(c.discovery.current()?.route({ address: '10.96.0.10', port: 80, family: 4 }).host, '10.244.0.5');
    const renewalLog = logLines.filter((l) => l.includes('renewal failed')).at(-1) ?? '';
    assert.ok(!renewalLog.includes('token-2') && !renewalLog.includes('PRIVATE'), 'no token or key in the logs');

    cp.publish(service('v2', '10.244.0.9'));
    const watchesBefore = cp.watchRequests.length;
    await cp.start();
    await waitFor('the new snapshot', () => c.discovery.current()?.version === 'v2');
    assert.equal(c.discovery.current()?.route({ address: '10.96.0.10', port: 80, family: 4 }).host, '10.244.0.9');
    assert.equal(cp.watchRequests.slice(watchesBefore).at(-1)?.lastVersion, 'v1', 'the reopened stream says what it has');
    await waitFor('a renewal after the restart', () => c.identity.current() !== heldCert);
    assert.equal(c.ready(), true);
  });

  it('stop() closes the stream and ends the retries', async () => {
    const c = client as MeshClient;
    await waitFor('an open stream', () => cp.openStreams() > 0);
    c.stop();
    await waitFor('the stream closed', () => cp.openStreams() === 0);
    const requests = cp.certifyRequests.length;
    await new Promise((r) => setTimeout(r, 3500));
    assert.equal(cp.certifyRequests.length, requests, 'no Certify after stop');
    client = undefined;
  });
});
