// Identity.Certify end to end in one process: a real grpc-js server over TLS on loopback, the real
// IdentityClient, tokens signed by a real RSA key (as skein-local mints them), the real local mesh CA
// (identity/ca) and CSRs made as a sidecar makes them. Each refusal is checked for its gRPC code, its
// counter and its log line; no log line may carry the token or the CSR.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPairSync, X509Certificate, type KeyObject } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { IdentityClient, IdentityService, type CertifyRequest, type CertifyResponse } from '@skein/api';
import { Registry } from 'prom-client';
import { createRootLogger } from '../../log.js';
import { createCa, issueServing } from '../../tls/issue.js';
import { startLocalMeshCa, type MeshCa } from '../ca/index.js';
import { makeCsr } from '../ca/testing/pki.js';
import { localTokenVerifier } from '../token/local.js';
import { mintLocal, type LocalMint } from '../token/testing/local-tokens.js';
import type { PodRecord } from '../types.js';
import { CERTIFY_SERVICE_DEFINITION, createIdentityService, type IdentityServiceDeps } from './service.js';

const NS = 'shop';
const SA = 'orders';
const POD = { name: 'orders-1', uid: '2f0c8d4e-1111-4a2b-9c3d-5e6f7a8b9c0d' };
const CERT_TTL = 3600;

interface Served { client: IdentityClient; server: grpc.Server; registry: Registry; lines: string[]; clock: { now: number } }

function call(client: IdentityClient, req: Partial<CertifyRequest>): Promise<{ err: grpc.ServiceError | null; res: CertifyResponse | undefined }> {
  return new Promise((resolve) => {
    client.certify({ token: '', csrPem: '', requestedTtlSeconds: 0, ...req }, (err, res) => resolve({ err, res: err ? undefined : res }));
  });
}

async function refusedCount(registry: Registry, reason: string): Promise<number> {
  const m = await registry.getSingleMetric('skein_cp_certificates_refused_total')?.get();
  return m?.values.find((v) => v.labels.reason === reason)?.value ?? 0;
}

async function issuedCount(registry: Registry): Promise<number> {
  return (await registry.getSingleMetric('skein_cp_certificates_issued_total')?.get())?.values[0]?.value ?? 0;
}

describe('Identity.Certify over gRPC/TLS', () => {
  let dir: string;
  let signer: KeyObject;
  let ca: MeshCa;
  let csrPem: string;
  const pods = new Map<string, PodRecord>();
  const servingCa = createCa();
  const serving = issueServing(servingCa);
  const open: Served[] = [];
  const token = (over: Partial<LocalMint> = {}): string => mintLocal(signer, { namespace: NS, serviceAccount: SA, pod: POD, ...over });

  async function serve(over: Partial<IdentityServiceDeps> = {}, definition: grpc.ServiceDefinition = CERTIFY_SERVICE_DEFINITION): Promise<Served> {
    const registry = new Registry();
    const lines: string[] = [];
    const clock = { now: Date.now() };
    const log = createRootLogger('info', { write: (s: string) => { lines.push(s); } });
    const impl = createIdentityService({
      ca: () => ca,
      verifier: localTokenVerifier({ publicKeyPath: join(dir, 'sa-pub.pem'), trustDomain: 'cluster.local', pods: async (ns, name) => pods.get(`${ns}/${name}`) }),
      meshSettings: () => ({ certTtlSeconds: CERT_TTL, trustDomain: 'cluster.local' }),
      metrics: { registry },
      log,
      now: () => clock.now,
      ...over,
    });
    const server = new grpc.Server({ 'grpc.max_receive_message_length': 1024 * 1024 });
    server.addService(definition, impl);
    const creds = grpc.ServerCredentials.createSsl(null, [{ cert_chain: Buffer.from(serving.certPem), private_key: Buffer.from(serving.keyPem) }], false);
    const port = await new Promise<number>((resolve, reject) => server.bindAsync('127.0.0.1:0', creds, (e, p) => (e ? reject(e) : resolve(p))));
    const client = new IdentityClient(`127.0.0.1:${port}`, grpc.credentials.createSsl(Buffer.from(servingCa.certPem)));
    const s = { client, server, registry, lines, clock };
    open.push(s);
    return s;
  }

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'sk-ut-certify-'));
    const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    signer = privateKey;
    await writeFile(join(dir, 'sa-pub.pem'), publicKey.export({ type: 'spki', format: 'pem' }));
    ca = await startLocalMeshCa({ stateDir: dir, trustDomain: 'cluster.local', log: createRootLogger('silent') });
    // What the CSR claims (subject, SAN) must be ignored: it names another identity.
    csrPem = (await makeCsr('p256', 'CN=admin', ['spiffe://cluster.local/ns/kube-system/sa/admin'])).csrPem;
    pods.set(`${NS}/${POD.name}`, { uid: POD.uid, podIPs: ['10.0.0.7'], serviceAccount: SA });
  });
  after(async () => {
    for (const s of open) {
      s.client.close();
      s.server.forceShutdown();
    }
    await ca.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('issues a leaf for the token\'s identity, whatever the CSR names, with the mesh trust anchors', async () => {
    const s = await serve();
    const t0 = Date.now();
    const { err, res } = await call(s.client, { token: token(), csrPem });
    assert.equal(err, null);
    assert.ok(res);
    assert.equal(res.spiffeId, 'spiffe://cluster.local/ns/shop/sa/orders');
    assert.deepEqual(res.trustAnchorsPem, ca.trustAnchorsPem());
    const leaf = new X509Certificate(res.certChainPem[0] ?? '');
    assert.equal(leaf.subjectAltName, 'URI:spiffe://cluster.local/ns/shop/sa/orders');
    const root = new X509Certificate(res.trustAnchorsPem[0] ?? '');
    assert.ok(leaf.checkIssued(root) && leaf.verify(root.publicKey), 'signed by the mesh root');
    const expires = res.expiresAtUnix * 1000;
    assert.equal(expires, Math.floor(new Date(leaf.validTo).getTime() / 1000) * 1000);
    assert.ok(expires >= Math.floor(t0 / 1000) * 1000 + CERT_TTL * 1000 - 1000 && expires <= Date.now() + CERT_TTL * 1000, 'the mesh default TTL');
    assert.equal(await issuedCount(s.registry), 1);
    const line = s.lines.map((l) => JSON.parse(l) as Record<string, unknown>).find((l) => l.msg === 'certificate issued');
    assert.ok(line);
    assert.equal(line.namespace, NS);
    assert.equal(line.sa, SA);
    assert.equal(line.pod, POD.name);
  });

  it('TTL: the requested one when shorter than the mesh\'s certTTL, else certTTL', async () => {
    const s = await serve();
    const short = await call(s.client, { token: token(), csrPem, requestedTtlSeconds: 600 });
    const long = await call(s.client, { token: token(), csrPem, requestedTtlSeconds: 10 * CERT_TTL });
    const now = Date.now() / 1000;
    assert.ok(short.res && long.res);
    assert.ok(Math.abs(short.res.expiresAtUnix - now - 600) < 60, `${short.res.expiresAtUnix - now}`);
    assert.ok(Math.abs(long.res.expiresAtUnix - now - CERT_TTL) < 60, `${long.res.expiresAtUnix - now}`);
  });

  it('refuses each bad request with its gRPC status and reason, counted and logged', async () => {
    const s = await serve();
    const other = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey;
    const badSig = ((): string => {
      // Flip one byte of the CSR's signature: a valid CSR shape that does not prove possession.
      const b64 = csrPem.replace(/-----[^-]+-----/g, '').replace(/\s/g, '');
      const der = Buffer.from(b64, 'base64');
      der[der.length - 5] = (der[der.length - 5] ?? 0) ^ 0x01;
      return `-----BEGIN CERTIFICATE REQUEST-----\n${der.toString('base64').replace(/(.{64})/g, '$1\n')}\n-----END CERTIFICATE REQUEST-----\n`;
    })();
    const p384Csr = (await makeCsr('p384')).csrPem;
    const cases: Array<[string, Partial<CertifyRequest>, grpc.status, string]> = [
      ['no token', { csrPem }, grpc.status.UNAUTHENTICATED, 'no_token'],
      ['a token of another key', { token: mintLocal(other, { namespace: NS, serviceAccount: SA, pod: POD }), csrPem }, grpc.status.UNAUTHENTICATED, 'bad_token'],
      ['an expired token', { token: token({ now: Date.now() - 2 * 3600_000 }), csrPem }, grpc.status.UNAUTHENTICATED, 'expired'],
      ['a token for another audience', { token: token({ audiences: ['vault'] }), csrPem }, grpc.status.UNAUTHENTICATED, 'wrong_audience'],
      ['a deleted pod\'s token', { token: token({ pod: { name: 'orders-gone', uid: 'u-gone' } }), csrPem }, grpc.status.PERMISSION_DENIED, 'unknown_pod'],
      ['a re-created pod\'s old token', { token: token({ pod: { name: POD.name, uid: 'old-uid' } }), csrPem }, grpc.status.PERMISSION_DENIED, 'replaced_pod'],
      ['a CSR whose signature does not verify', { token: token(), csrPem: badSig }, grpc.status.INVALID_ARGUMENT, 'csr_signature'],
      ['no CSR', { token: token() }, grpc.status.INVALID_ARGUMENT, 'bad_csr'],
      ['a P-384 key', { token: token(), csrPem: p384Csr }, grpc.status.INVALID_ARGUMENT, 'unsupported_key'],
      ['a request over 64 KiB', { token: token(), csrPem: `${csrPem}${' '.repeat(70 * 1024)}` }, grpc.status.INVALID_ARGUMENT, 'oversized'],
    ];
    for (const [what, req, code, reason] of cases) {
      const { err } = await call(s.client, req);
      assert.ok(err, what);
      assert.equal(err.code, code, `${what}: ${err.details}`);
      assert.ok(err.details.length > 30, `${what}: the message says what to do: ${err.details}`);
      assert.equal(await refusedCount(s.registry, reason), 1, `${what}: counted as ${reason}`);
      const logged = s.lines.map((l) => JSON.parse(l) as Record<string, unknown>).filter((l) => l.reason === reason);
      assert.equal(logged.length, 1, `${what}: one log line`);
    }
    assert.equal(await issuedCount(s.registry), 0);
    // A refusal after the token was verified names the caller in its log line.
    const csrLine = s.lines.map((l) => JSON.parse(l) as Record<string, unknown>).find((l) => l.reason === 'csr_signature');
    assert.deepEqual([csrLine?.namespace, csrLine?.sa, csrLine?.pod], [NS, SA, POD.name]);
  });

  it('never logs the token or the CSR', async () => {
    const s = await serve();
    const t = token();
    await call(s.client, { token: t, csrPem });
    await call(s.client, { token: t, csrPem: 'garbage' });
    await call(s.client, { token: `${t}x`, csrPem });
    const all = s.lines.join('\n');
    const csrBody = csrPem.split('\n')[1] ?? '';
    assert.ok(s.lines.length >= 3);
    for (const secret of [t.split('.')[1] ?? '', t.split('.')[2] ?? '', csrBody]) {
      assert.ok(secret.length > 20);
      assert.equal(all.includes(secret), false);
    }
  });

  it('the size-checking definition refuses an oversized message without decoding it', () => {
    // 70 KiB of bytes that are no protobuf at all: decoding would throw.
    const decoded = CERTIFY_SERVICE_DEFINITION.certify.requestDeserialize(Buffer.alloc(70 * 1024, 0xff)) as unknown as { oversized?: number };
    assert.equal(decoded.oversized, 70 * 1024);
    assert.throws(() => IdentityService.certify.requestDeserialize(Buffer.alloc(70 * 1024, 0xff)));
  });

  it('an oversized request is refused as such even through the stock service definition', async () => {
    const s = await serve({}, IdentityService);
    const { err } = await call(s.client, { token: token(), csrPem: 'x'.repeat(65 * 1024) });
    assert.equal(err?.code, grpc.status.INVALID_ARGUMENT);
    assert.equal(await refusedCount(s.registry, 'oversized'), 1);
  });

  it('rate limit per identity: a burst of 5, then 10 a minute; another identity is not affected', async () => {
    const s = await serve();
    for (let i = 0; i < 5; i++) assert.equal((await call(s.client, { token: token(), csrPem })).err, null, `request ${i + 1}`);
    const { err } = await call(s.client, { token: token(), csrPem });
    assert.equal(err?.code, grpc.status.RESOURCE_EXHAUSTED);
    assert.match(err?.details ?? '', /retry in \d+ s/);
    assert.equal(await refusedCount(s.registry, 'rate_limited'), 1);
    // Another service account (its own pod) still gets its certificate.
    pods.set(`${NS}/billing-1`, { uid: 'u-billing', podIPs: [], serviceAccount: 'billing' });
    const billing = token({ serviceAccount: 'billing', pod: { name: 'billing-1', uid: 'u-billing' } });
    assert.equal((await call(s.client, { token: billing, csrPem })).err, null);
    // 10 a minute: one more after 6 s, not two.
    s.clock.now += 6_000;
    assert.equal((await call(s.client, { token: token(), csrPem })).err, null);
    assert.equal((await call(s.client, { token: token(), csrPem })).err?.code, grpc.status.RESOURCE_EXHAUSTED);
  });

  it('with the peer check, a bound token is honoured only from its pod\'s address', async () => {
    const lookup = async (ns: string, name: string): Promise<PodRecord | undefined> => pods.get(`${ns}/${name}`);
    const s = await serve({ peerCheck: { pods: lookup } });
    // The pod is at 10.0.0.7; this request comes from 127.0.0.1: a copied token.
    const stolen = await call(s.client, { token: token(), csrPem });
    assert.equal(stolen.err?.code, grpc.status.PERMISSION_DENIED);
    assert.match(stolen.err?.details ?? '', /comes from 127\.0\.0\.1, not from pod shop\/orders-1/);
    pods.set(`${NS}/local-1`, { uid: 'u-local', podIPs: ['10.0.0.8', '127.0.0.1'], serviceAccount: SA });
    const own = await call(s.client, { token: token({ pod: { name: 'local-1', uid: 'u-local' } }), csrPem });
    assert.equal(own.err, null);
  });

  it('CA not ready → UNAVAILABLE; a failure on skein-cp\'s side (key file gone) → UNAVAILABLE, counted as internal', async () => {
    const notReady = await serve({ ca: () => undefined });
    const a = await call(notReady.client, { token: token(), csrPem });
    assert.equal(a.err?.code, grpc.status.UNAVAILABLE);
    assert.equal(await refusedCount(notReady.registry, 'ca_not_ready'), 1);
    const broken = await serve({ verifier: localTokenVerifier({ publicKeyPath: join(dir, 'missing.pem'), trustDomain: 'cluster.local', pods: async () => undefined }) });
    const b = await call(broken.client, { token: token(), csrPem });
    assert.equal(b.err?.code, grpc.status.UNAVAILABLE);
    assert.match(b.err?.details ?? '', /retry/);
    assert.equal(await refusedCount(broken.registry, 'internal'), 1);
  });
});
