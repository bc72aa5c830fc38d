// The mesh services of `skein-cp --mode kubernetes` as a real process against the validating in-memory
// API server: the leader creates the mesh CA Secret once, publishes ConfigMap skein-ca-root into a
// namespace with injected pods, certifies a sidecar whose token a TokenReview confirms (identity from
// the token, never from the CSR) and streams it a discovery snapshot.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as grpc from '@grpc/grpc-js';
import { DiscoveryClient, IdentityClient, type CertifyResponse, type Snapshot } from '@skein/api';
import { httpGet } from './testing/http-get.js';
import { FakeApiServer } from './kube/testing/apiserver/server.js';
import { applyWebhookConfiguration } from './kube/testing/apiserver/manifests.js';
import { SECRETS } from './kube/testing/apiserver/kinds.js';
import { CONFIG_MAPS } from './kube/testing/apiserver/kinds-configmap.js';
import { PODS } from './kube/testing/apiserver/kinds-discovery.js';
import { decodeSecretData } from './kube/tls-secret.js';

const MAIN = fileURLToPath(new URL('./main.js', import.meta.url));
const NS = 'skein-system';
const children = new Set<ChildProcess>();
const cleanup: Array<() => Promise<void>> = [];
after(async () => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  for (const f of cleanup) await f();
});

async function until<T>(what: string, probe: () => T | undefined | Promise<T | undefined>, log: () => string): Promise<T> {
  const deadline = Date.now() + 30_000; // failure guard only
  for (;;) {
    const v = await probe();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}:\n${log()}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

test('skein-cp --mode kubernetes: mesh CA Secret, skein-ca-root in an injected namespace, Certify via TokenReview, Discovery.Watch', async () => {
  const api = await FakeApiServer.start({ version: { major: '1', minor: '32', gitVersion: 'v1.32.13' }, namespaces: ['default', NS, 'shop', 'plain'] });
  const dir = await mkdtemp(join(tmpdir(), 'sk-ut-cpmesh-'));
  cleanup.push(async () => { await api.close(); await rm(dir, { recursive: true, force: true }); });
  await applyWebhookConfiguration(api);
  const seeded = api.seed(PODS, {
    apiVersion: 'v1', kind: 'Pod', metadata: { name: 'orders-0', namespace: 'shop', annotations: { 'skein.io/injected': '0.1.0' } },
    spec: { serviceAccountName: 'orders', containers: [{ name: 'app', image: 'nginx:1.27', ports: [{ name: 'http', containerPort: 8080 }] }] },
  });
  const uid = String((seeded.metadata as { uid: string }).uid);
  const kubeconfig = await api.writeKubeconfig(dir);

  const child = spawn(process.execPath, [MAIN, '--kubeconfig', kubeconfig, '--bind-address', '127.0.0.1', '--health-port', '0', '--webhook-port', '0', '--grpc-port', '0'], {
    stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, POD_NAME: 'skein-cp-0', POD_NAMESPACE: NS },
  });
  children.add(child);
  let out = '';
  child.stdout?.on('data', (b: Buffer) => (out += b.toString()));
  child.stderr?.on('data', (b: Buffer) => (out += b.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const log = (): string => out;
  const port = (listener: string): Promise<number> => until(`the ${listener} listener`, () => {
    const m = new RegExp(`"listener":"${listener}","address":"127\\.0\\.0\\.1","port":(\\d+)`).exec(out);
    if (child.exitCode !== null) throw new Error(`skein-cp exited:\n${out}`);
    return m?.[1] ? Number(m[1]) : undefined;
  }, log);
  const healthPort = await port('health');
  const grpcPort = await port('grpc');
  await until('/readyz', async () => ((await httpGet(healthPort, '/readyz')).status === 200 ? true : undefined), log);

  // The mesh CA: created once by the leader, in its own Secret (not the webhook's).
  const caSecret = await until('Secret skein-ca', () => api.get(SECRETS, NS, 'skein-ca'), log);
  const caData = caSecret.data as Record<string, string>;
  const caCert = new X509Certificate(Buffer.from(caData['tls.crt']!, 'base64'));
  assert.equal(caCert.ca, true);
  assert.match(caCert.publicKey.asymmetricKeyDetails?.namedCurve ?? '', /prime256v1|P-256/);

  // skein-ca-root in the namespace with an injected pod (not in the one without), with both roots.
  const cm = await until('ConfigMap shop/skein-ca-root', () => api.get(CONFIG_MAPS, 'shop', 'skein-ca-root'), log);
  const cmData = cm.data as Record<string, string>;
  assert.equal(new X509Certificate(cmData['root-cert.pem']!).fingerprint256, caCert.fingerprint256);
  const serving = decodeSecretData(api.get(SECRETS, NS, 'skein-webhook-tls')?.data as Record<string, string>);
  assert.equal(cmData['control-plane-ca.pem']?.trim(), serving?.ca.certPem.trim(), 'control-plane-ca.pem verifies skein-cp itself');
  assert.equal(api.get(CONFIG_MAPS, 'plain', 'skein-ca-root'), undefined, 'no injected pods, no ConfigMap');

  // Certify as the sidecar of orders-0 does: TLS verified with control-plane-ca.pem, a TokenReview-able token.
  const creds = grpc.credentials.createSsl(Buffer.from(cmData['control-plane-ca.pem']!));
  const options = { 'grpc.ssl_target_name_override': 'skein-cp.skein-system.svc' };
  const token = api.tokens.mint({ namespace: 'shop', serviceAccount: 'orders', pod: { name: 'orders-0', uid }, audiences: ['skein-cp'] });
  const csrPem = execFileSync('openssl', ['req', '-new', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', join(dir, 'leaf.key'),
    '-subj', '/CN=x', '-addext', 'subjectAltName=URI:spiffe://cluster.local/ns/kube-system/sa/admin'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
  const identity = new IdentityClient(`127.0.0.1:${grpcPort}`, creds, options);
  const certify = (t: string): Promise<{ ok?: CertifyResponse; code?: grpc.status }> => new Promise((resolve) => {
    identity.certify({ token: t, csrPem, requestedTtlSeconds: 0 }, (err, res) => resolve(err ? { code: err.code } : { ok: res }));
  });
  try {
    const issued = await certify(token);
    assert.ok(issued.ok, `certified (${issued.code})`);
    assert.equal(issued.ok.spiffeId, 'spiffe://cluster.local/ns/shop/sa/orders');
    const leaf = new X509Certificate(issued.ok.certChainPem[0]!);
    assert.equal(leaf.subjectAltName, 'URI:spiffe://cluster.local/ns/shop/sa/orders', 'what the CSR claimed is ignored');
    assert.ok(leaf.verify(caCert.publicKey), 'signed by the mesh CA');
    assert.equal((await certify('not-a-token')).code, grpc.status.UNAUTHENTICATED);
    const wrongAudience = api.tokens.mint({ namespace: 'shop', serviceAccount: 'orders', pod: { name: 'orders-0', uid }, audiences: ['https://kubernetes.default.svc'] });
    assert.equal((await certify(wrongAudience)).code, grpc.status.UNAUTHENTICATED);
  } finally {
    identity.close();
  }

  // Discovery: the sidecar's first snapshot names it and carries the trust anchors.
  const discovery = new DiscoveryClient(`127.0.0.1:${grpcPort}`, creds, options);
  try {
    const snapshot = await new Promise<Snapshot>((resolve, reject) => {
      const call = discovery.watch({ token, podName: 'orders-0', podNamespace: 'shop', podIp: '', nodeName: '', lastVersion: '' });
      call.on('data', (s: Snapshot) => { resolve(s); call.cancel(); });
      call.on('error', (e: grpc.ServiceError) => { if (e.code !== grpc.status.CANCELLED) reject(e); });
    });
    assert.equal(snapshot.self?.spiffeId, 'spiffe://cluster.local/ns/shop/sa/orders');
    assert.equal(new X509Certificate(snapshot.trustAnchorsPem[0]!).fingerprint256, caCert.fingerprint256);
  } finally {
    discovery.close();
  }

  child.kill('SIGTERM');
  assert.equal(await exited, 0);
  assert.doesNotMatch(out, new RegExp(token.slice(-40)), 'the sidecar token is never logged');
  assert.deepEqual(api.warnings, []);
});
