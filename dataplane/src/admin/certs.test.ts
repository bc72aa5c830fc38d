// GET /certs and the mesh part of /config_dump on a real admin server, fed by the real mesh client that
// holds a certificate and a snapshot from a TLS gRPC skein-cp on loopback (discovery/testing/fake-cp.ts):
// identity, serial, validity, remaining lifetime, the trust anchors' subjects and fingerprints, the
// routes — and never the key or the token.
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import http from 'node:http';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { MtlsMode, Protocol } from '@skein/api';
import { parseRunConfig } from '../config/index.js';
import { Backoff } from '../identity/backoff.js';
import { createLogControl } from '../log/index.js';
import { ProxyState } from '../lifecycle/state.js';
import { createMetrics } from '../metrics/index.js';
import type { MeshClient } from '../discovery/index.js';
import { startMeshClientNow } from '../discovery/mesh-client.js';
import { createCa, FakeControlPlane, servingIdentity, snapshotOf } from '../discovery/testing/fake-cp.js';
import { listen } from '../transport/listen.js';
import { createAdminServer } from './server.js';

const SPIFFE = 'spiffe://cluster.local/ns/shop/sa/web';
const TOKEN = 'eyJhbGciOiJSUzI1NiJ9.very-secret-token-body.sig';

function get(port: number, path: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    http.get({ host: '127.0.0.1', port, path, agent: false }, (res) => {
      let body = '';
      res.on('data', (c: Buffer) => { body += c.toString(); });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    }).on('error', reject);
  });
}

describe('admin /certs and /config_dump with the mesh client', () => {
  let dir: string;
  let cp: FakeControlPlane;
  let client: MeshClient;
  let meshRootPem: string;
  const servers: http.Server[] = [];

  const adminServer = async (mesh: (() => MeshClient) | undefined): Promise<number> => {
    const logs = createLogControl('silent');
    const config = parseRunConfig([], {});
    const server = createAdminServer({
      config, state: new ProxyState(), metrics: createMetrics(), logs, log: logs.root,
      listeners: () => ({}), drain: () => {}, quit: () => {}, ...(mesh ? { mesh } : {}),
    });
    servers.push(server);
    return (await listen(server, 0, '127.0.0.1')).port;
  };

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'skein-admin-certs-test-'));
    const serving = await servingIdentity();
    const meshCa = await createCa('skein test mesh root');
    meshRootPem = meshCa.certPem;
    cp = new FakeControlPlane({ serving, meshCa, spiffeId: SPIFFE, token: () => TOKEN, defaultTtlSeconds: 3600 });
    await cp.start();
    cp.publish(snapshotOf({
      version: 'v7',
      mesh: { name: 'default', mtlsMode: MtlsMode.MTLS_MODE_STRICT, certTtlSeconds: 3600, defaultAction: 1, trustDomain: 'cluster.local' },
      trustAnchorsPem: [meshCa.certPem],
      services: [{
        name: 'orders', namespace: 'shop', clusterIps: ['10.96.0.10'], loadBalancer: undefined,
        ports: [{ name: 'http', port: 80, targetPort: 8080, protocol: Protocol.PROTOCOL_HTTP }],
        endpoints: [{ ip: '10.244.0.5', ports: { http: 8080 }, ready: true, spiffeId: 'spiffe://cluster.local/ns/shop/sa/orders', podName: 'orders-a', nodeName: 'n', podNamespace: 'shop', weight: 0 }],
      }],
      workloads: [{ ip: '10.244.0.5', podName: 'orders-a', namespace: 'shop', spiffeId: 'spiffe://cluster.local/ns/shop/sa/orders', labels: {}, opaquePorts: [], ips: ['10.244.0.5'] }],
    }));
    await writeFile(join(dir, 'token'), TOKEN);
    await writeFile(join(dir, 'cp-ca.pem'), serving.ca.certPem);
    const config = parseRunConfig([], {
      SKEIN_CP_ADDRESS: `127.0.0.1:${cp.port}`, SKEIN_TOKEN_PATH: join(dir, 'token'), SKEIN_CP_CA_PATH: join(dir, 'cp-ca.pem'),
      POD_NAME: 'web-0', POD_NAMESPACE: 'shop',
    });
    const logs = createLogControl('silent');
    client = await startMeshClientNow({ config, log: logs.root, metrics: createMetrics(), backoff: () => new Backoff({ minMs: 50, maxMs: 200 }) });
    await client.whenReady();
  });
  after(async () => {
    client?.stop();
    cp?.stop();
    for (const s of servers) s.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('/certs: identity, serial, validity, remaining lifetime and the trust anchors, never a key or the token', async () => {
    const port = await adminServer(() => client);
    const res = await get(port, '/certs');
    assert.equal(res.status, 200);
    const body = JSON.parse(res.body) as {
      mode: string; identity: string;
      certificate: { spiffeId: string; serial: string; notBefore: string; notAfter: string; remainingSeconds: number; expired: boolean; chainLength: number };
      trustAnchors: Array<{ subject: string; fingerprint256: string }>;
    };
    const cert = client.identity.current();
    assert.ok(cert);
    assert.equal(body.mode, 'mesh');
    assert.equal(body.identity, SPIFFE);
    assert.equal(body.certificate.serial, cert.serial);
    assert.equal(body.certificate.notAfter, cert.notAfter.toISOString());
    assert.equal(body.certificate.expired, false);
    assert.ok(body.certificate.remainingSeconds > 3000 && body.certificate.remainingSeconds <= 3600);
    assert.equal(body.certificate.chainLength, 1);
    assert.deepEqual(body.trustAnchors.map((a) => a.subject), ['CN=skein test mesh root']);
    assert.equal(body.trustAnchors[0]?.fingerprint256, new X509Certificate(meshRootPem).fingerprint256);
    const keyPem = cert.key.export({ type: 'pkcs8', format: 'pem' }).toString();
    const keyBody = keyPem.split('\n')[1] ?? 'x';
    for (const secret of [keyBody, 'PRIVATE KEY', 'very-secret-token-body']) assert.ok(!res.body.includes(secret), secret);
  });

  it('/config_dump: the mesh view (version, mode, services, endpoints, workloads) and the certificate summary', async () => {
    const port = await adminServer(() => client);
    const res = await get(port, '/config_dump');
    const dump = JSON.parse(res.body) as {
      mesh: { mode: string; version: string; mtlsMode: string; services: Array<{ name: string; endpoints: Array<{ ip: string; spiffeId: string }> }>; workloads: Array<{ pod: string; spiffeId: string }>; certificate: { serial: string } };
      certificates: Array<{ spiffeId: string }>; endpoints: Array<{ service: string; ip: string }>;
    };
    assert.equal(dump.mesh.mode, 'mesh');
    assert.equal(dump.mesh.version, 'v7');
    assert.equal(dump.mesh.mtlsMode, 'STRICT');
    assert.deepEqual(dump.mesh.services.map((s) => [s.name, s.endpoints.map((e) => e.ip)]), [['shop/orders', ['10.244.0.5']]]);
    assert.deepEqual(dump.mesh.workloads.map((w) => [w.pod, w.spiffeId]), [['shop/orders-a', 'spiffe://cluster.local/ns/shop/sa/orders']]);
    assert.equal(dump.mesh.certificate.serial, client.identity.current()?.serial);
    assert.deepEqual(dump.certificates.map((c) => c.spiffeId), [SPIFFE]);
    assert.deepEqual(dump.endpoints.map((e) => [e.service, e.ip]), [['shop/orders', '10.244.0.5']]);
    const keyBody = client.identity.current()?.key.export({ type: 'pkcs8', format: 'pem' }).toString().split('\n')[1] ?? 'x';
    for (const secret of [keyBody, 'PRIVATE KEY', 'very-secret-token-body']) assert.ok(!res.body.includes(secret), secret);
  });

  it('standalone: /certs says so and holds no certificate', async () => {
    const port = await adminServer(undefined);
    assert.deepEqual(JSON.parse((await get(port, '/certs')).body), { mode: 'standalone', identity: null, certificate: null, trustAnchors: [] });
    const dump = JSON.parse((await get(port, '/config_dump')).body) as { mesh: unknown; certificates: unknown[] };
    assert.deepEqual(dump.mesh, { mode: 'standalone' });
    assert.deepEqual(dump.certificates, []);
  });
});
