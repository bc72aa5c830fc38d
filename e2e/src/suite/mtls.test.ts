// Identity and mutual TLS end to end on a real skein-local node: what goes over the bridge between two
// meshed pods is TLS 1.3 (a capture with tcpdump never shows the marker the clients send), the server's
// app learns the caller's SPIFFE ID from a header no caller can forge, STRICT refuses what PERMISSIVE
// lets in, a certificate from another CA is refused, certificates renew under a flowing connection, and
// traffic keeps flowing while skein-cp restarts. Clients and servers are Debian's (curl, redis-cli,
// redis-server, openssl, tcpdump) plus a small echo server.
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { createPrivateKey, generateKeyPairSync, randomBytes, randomUUID, X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import * as grpc from '@grpc/grpc-js';
import { IdentityClient, type CertifyResponse } from '@skein/api';
import { mintToken, type TokenRequest } from '../local/volumes/token.js';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import type { LocalMesh } from './harness/local-mesh.js';
import { namespace, pod, service, type K8sObject } from './harness/manifests.js';
import { fixture } from './harness/paths.js';
import { pollUntil } from './harness/poll.js';
import { meshSuite } from './harness/suite.js';

const NS = 'e2e-mtls';
const PLAIN = 'e2e-mtls-plain';
const SPIFFE_DEFAULT = `spiffe://cluster.local/ns/${NS}/sa/default`;

function mesh(mode: 'STRICT' | 'PERMISSIVE', certTTL = '24h'): K8sObject {
  return { apiVersion: 'skein.io/v1alpha1', kind: 'Mesh', metadata: { name: 'default' }, spec: { mtls: { mode, certTTL }, defaultAction: 'Allow' } };
}

async function setup(m: LocalMesh): Promise<void> {
  await m.apply([
    mesh('PERMISSIVE'),
    namespace(NS, true),
    namespace(PLAIN, false),
    pod({ name: 'client', namespace: NS, containers: [{ name: 'toolbox', command: ['sleep', 'infinity'] }] }),
    // Used only by the capture: its sidecar has no pooled connection yet, so the handshakes are on the wire.
    pod({ name: 'sniffed', namespace: NS, containers: [{ name: 'toolbox', command: ['sleep', 'infinity'] }] }),
    pod({ name: 'echo', namespace: NS, containers: [{ name: 'echo', command: ['node', fixture('echo-headers.js'), '8080'], ports: [8080] }] }),
    service('echo', NS, { app: 'echo' }, [{ name: 'http', port: 80, targetPort: 8080 }]),
    pod({
      name: 'redis', namespace: NS,
      containers: [{ name: 'redis', command: ['redis-server', '--port', '6379', '--save', '', '--appendonly', 'no', '--protected-mode', 'no'], ports: [6379] }],
    }),
    service('redis', NS, { app: 'redis' }, [{ name: 'redis', port: 6379, targetPort: 6379 }]),
    pod({ name: 'outsider', namespace: PLAIN, containers: [{ name: 'toolbox', command: ['sleep', 'infinity'] }] }),
  ]);
  for (const [ns, p] of [[NS, 'client'], [NS, 'sniffed'], [NS, 'echo'], [NS, 'redis'], [PLAIN, 'outsider']] as const) await m.waitReady(ns, p);
}

interface Echo { method: string; url: string; headers: Record<string, string>; bodyBytes: number }

async function curlEcho(m: LocalMesh, ns: string, from: string, url: string, extra: readonly string[] = []): Promise<Echo> {
  return JSON.parse(await m.execOk(ns, from, ['curl', '-sS', '--fail', '--max-time', '10', ...extra, url])) as Echo;
}

/** tcpdump on the node's bridge while `traffic` runs; returns the raw capture (pcap bytes). */
async function capture(m: LocalMesh, traffic: () => Promise<void>): Promise<Buffer> {
  const file = join(m.filesDir, `bridge-${Date.now()}.pcap`);
  const dump = spawn('tcpdump', ['-i', m.bridge, '-U', '-s', '0', '-w', file, 'tcp'], { stdio: ['ignore', 'ignore', 'pipe'] });
  let err = '';
  dump.stderr.on('data', (d: Buffer) => { err += d.toString(); });
  try {
    await pollUntil(async () => err.includes('listening on') || undefined, { what: 'tcpdump to start', timeoutMs: 10_000 });
    await traffic();
    await new Promise((r) => setTimeout(r, 500)); // -U flushes per packet; give the last ones a moment
  } finally {
    dump.kill('SIGINT');
    await new Promise((r) => dump.once('exit', r));
  }
  return readFileSync(file);
}

/** A P-256 CSR made by openssl, optionally claiming an identity in its SAN (which skein-cp must ignore). */
function opensslCsr(dir: string, claim?: string): string {
  const args = ['req', '-new', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', join(dir, `csr-${randomUUID()}.key`), '-subj', '/CN=whatever'];
  if (claim) args.push('-addext', `subjectAltName=URI:${claim}`);
  return execFileSync('openssl', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
}

/** Calls Identity.Certify on skein-cp as a sidecar does (TLS verified with the serving CA). */
async function certify(m: LocalMesh, token: string, csrPem: string): Promise<{ ok?: CertifyResponse; code?: grpc.status; details?: string }> {
  const cp = JSON.parse(readFileSync(join(m.stateDir, 'cp', 'cp.json'), 'utf8')) as { grpcPort: number };
  const ca = readFileSync(join(m.stateDir, 'cp', 'webhook-ca.pem'));
  const client = new IdentityClient(`127.0.0.1:${cp.grpcPort}`, grpc.credentials.createSsl(ca), { 'grpc.ssl_target_name_override': 'skein-cp.skein-system.svc' });
  try {
    return await new Promise((resolve) => {
      client.certify({ token, csrPem, requestedTtlSeconds: 0 }, (err, res) => resolve(err ? { code: err.code, details: err.details } : { ok: res }));
    });
  } finally {
    client.close();
  }
}

describe('mTLS between sidecars on skein-local', () => {
  const { mesh: m, diagnosed } = meshSuite('mtls', [NS, PLAIN], setup);

  it('the app sees the caller\'s SPIFFE ID; a forged identity header never reaches it', diagnosed(async () => {
    const got = await curlEcho(m, NS, 'client', `http://echo.${NS}/who`, ['-H', 'x-skein-peer-identity: spiffe://cluster.local/ns/kube-system/sa/admin']);
    assert.equal(got.headers['x-skein-peer-identity'], SPIFFE_DEFAULT);
  }));

  it('a capture on the bridge shows TLS 1.3 with the mesh ALPN and never the marker, for HTTP and for Redis', diagnosed(async () => {
    const marker = `skein-marker-${randomBytes(8).toString('hex')}`;
    const pcap = await capture(m, async () => {
      const got = await curlEcho(m, NS, 'sniffed', `http://echo.${NS}/${marker}`, ['-H', `x-marker: ${marker}`, '--data', marker]);
      assert.equal(got.url, `/${marker}`, 'the request arrived whole');
      assert.equal(await m.execOk(NS, 'sniffed', ['redis-cli', '-h', `redis.${NS}`, 'SET', 'k', marker]), 'OK\n');
      assert.equal(await m.execOk(NS, 'sniffed', ['redis-cli', '-h', `redis.${NS}`, 'GET', 'k']), `${marker}\n`);
    });
    assert.ok(pcap.length > 1000, `the capture holds the traffic (${pcap.length} bytes)`);
    assert.equal(pcap.includes(marker), false, 'the marker crossed the bridge in clear');
    assert.ok(pcap.includes('skein/h1'), 'an mTLS handshake offering ALPN skein/h1 (HTTP inside)');
    assert.ok(pcap.includes('skein/tcp'), 'an mTLS handshake offering ALPN skein/tcp (Redis inside)');
    // ServerHello's supported_versions extension: type 0x002b, length 2, TLS 1.3 (0x0304).
    assert.ok(pcap.includes(Buffer.from([0x00, 0x2b, 0x00, 0x02, 0x03, 0x04])), 'a TLS 1.3 ServerHello');
  }));

  it('PERMISSIVE lets an unmeshed pod in without an identity; STRICT refuses it and keeps meshed callers working', diagnosed(async () => {
    const echoIP = await m.podIP(NS, 'echo');
    const plain = await curlEcho(m, PLAIN, 'outsider', `http://${echoIP}:8080/plain`, ['-H', 'x-skein-peer-identity: spiffe://cluster.local/ns/x/sa/forged']);
    assert.equal(plain.headers['x-skein-peer-identity'], undefined, 'an unauthenticated caller has no identity, and its forged one is stripped');
    await m.apply([mesh('STRICT')]);
    try {
      await pollUntil(async () => (await m.exec(PLAIN, 'outsider', ['curl', '-sS', '--fail', '--max-time', '3', `http://${echoIP}:8080/strict`])).code !== 0 || undefined,
        { what: 'STRICT to refuse the unmeshed caller', timeoutMs: 15_000 });
      const meshed = await curlEcho(m, NS, 'client', `http://echo.${NS}/strict`);
      assert.equal(meshed.headers['x-skein-peer-identity'], SPIFFE_DEFAULT);
    } finally {
      await m.apply([mesh('PERMISSIVE')]);
    }
    await pollUntil(async () => (await m.exec(PLAIN, 'outsider', ['curl', '-sS', '--fail', '--max-time', '3', `http://${echoIP}:8080/back`])).code === 0 || undefined,
      { what: 'PERMISSIVE again', timeoutMs: 15_000 });
  }));

  it('a client certificate from another CA is refused before anything reaches the app', diagnosed(async () => {
    const echoIP = await m.podIP(NS, 'echo');
    const dir = join(m.filesDir, 'rogue');
    // A CA of its own and a leaf with the SPIFFE ID of a real workload: everything right but the issuer.
    const script = [
      `mkdir -p ${dir} && cd ${dir}`,
      'openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout ca.key -out ca.pem -days 1 -subj /CN=rogue-ca 2>/dev/null',
      `openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout leaf.key -out leaf.csr -subj /CN=x 2>/dev/null`,
      `printf 'subjectAltName=URI:${SPIFFE_DEFAULT}\\nextendedKeyUsage=clientAuth,serverAuth\\n' > ext.cnf`,
      'openssl x509 -req -in leaf.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 1 -extfile ext.cnf -out leaf.pem 2>/dev/null',
      `printf 'GET /rogue HTTP/1.1\\r\\nHost: echo\\r\\nConnection: close\\r\\n\\r\\n' | timeout 10 openssl s_client -connect ${echoIP}:8080 -tls1_3 -alpn skein/h1 -cert leaf.pem -key leaf.key -quiet 2>&1; true`,
    ].join(' && ');
    const out = await m.shOk(PLAIN, 'outsider', script);
    assert.doesNotMatch(out, /HTTP\/1\.1 200/, `the rogue peer got an answer:\n${out}`);
    const logs = await m.logs(NS, 'echo', 'skein-proxy');
    assert.match(logs, /handshake/i, 'the refused handshake is logged by the inbound sidecar');
  }));

  it('a renewal forced by a one-minute lifetime happens while a long-lived connection keeps flowing', diagnosed(async () => {
    await m.apply([mesh('PERMISSIVE', '1m')]);
    try {
      // A pod started under the one-minute TTL: its first certificate lives a minute, renewed at 30-45 s.
      await m.apply([pod({ name: 'renewer', namespace: NS, containers: [{ name: 'toolbox', command: ['sleep', 'infinity'] }] })]);
      await m.waitReady(NS, 'renewer');
      const certOf = async (): Promise<{ serial: string; notBefore: string; notAfter: string }> =>
        (JSON.parse(await m.admin(NS, 'renewer', '/certs')) as { certificate: { serial: string; notBefore: string; notAfter: string } }).certificate;
      const first = await certOf();
      const lifetime = Date.parse(first.notAfter) - Date.now();
      assert.ok(lifetime <= 61_000, `the certificate follows Mesh certTTL 1m (expires in ${lifetime} ms)`);
      const out = join(m.filesDir, 'long-lived.out');
      // One TCP connection through both sidecars for 80 s: redis-cli repeats PING every 0.25 s on it.
      const long = m.shOk(NS, 'renewer', `redis-cli -h redis.${NS} -r 320 -i 0.25 PING > ${out} 2>&1; echo "exit $?" >> ${out}`, { timeoutMs: 150_000 });
      const renewed = await pollUntil(async () => {
        const now = await certOf();
        return now.serial !== first.serial ? now : undefined;
      }, { what: 'the sidecar to renew its certificate', timeoutMs: 75_000, intervalMs: 2000 });
      assert.ok(Date.parse(renewed.notAfter) > Date.parse(first.notAfter), 'the new certificate lives longer than the old one');
      await long;
      const lines = readFileSync(out, 'utf8').trim().split('\n');
      assert.equal(lines.at(-1), 'exit 0', 'redis-cli ended cleanly');
      assert.equal(lines.filter((l) => l === 'PONG').length, 320, 'every PING on the long-lived connection was answered');
      // New connections use the renewed certificate and still work.
      assert.equal((await curlEcho(m, NS, 'renewer', `http://echo.${NS}/after-renewal`)).headers['x-skein-peer-identity'], SPIFFE_DEFAULT);
    } finally {
      await m.apply([mesh('PERMISSIVE')]);
    }
  }));

  it('skein-cp stopped and restarted while requests flow: no request fails, the sidecars reconnect', diagnosed(async () => {
    const cp = JSON.parse(readFileSync(join(m.stateDir, 'cp', 'cp.json'), 'utf8')) as { pid: number };
    const loop = m.shOk(NS, 'client',
      `fails=0; for i in $(seq 1 150); do curl -sS --fail --max-time 5 -o /dev/null http://echo.${NS}/loop || fails=$((fails+1)); sleep 0.1; done; echo "fails=$fails"`,
      { timeoutMs: 120_000 });
    await new Promise((r) => setTimeout(r, 1000));
    process.kill(cp.pid, 'SIGKILL'); // the daemon restarts it, as kubelet would
    assert.equal((await loop).trim(), 'fails=0');
    const next = await pollUntil(async () => {
      try {
        const now = JSON.parse(readFileSync(join(m.stateDir, 'cp', 'cp.json'), 'utf8')) as { pid: number };
        return now.pid !== cp.pid ? now : undefined;
      } catch { return undefined; }
    }, { what: 'skein-cp to be restarted', timeoutMs: 60_000 });
    assert.notEqual(next.pid, cp.pid);
    // The sidecars' streams reconnect by themselves: a Mesh change made after the restart reaches them.
    await m.apply([mesh('STRICT')]);
    try {
      const echoIP = await m.podIP(NS, 'echo');
      await pollUntil(async () => (await m.exec(PLAIN, 'outsider', ['curl', '-sS', '--fail', '--max-time', '3', `http://${echoIP}:8080/x`])).code !== 0 || undefined,
        { what: 'the restarted skein-cp to push STRICT to the echo sidecar', timeoutMs: 30_000 });
    } finally {
      await m.apply([mesh('PERMISSIVE')]);
    }
  }));

  it('Certify signs only for the identity a valid token proves and refuses every bad token with a clear status', diagnosed(async () => {
    const key = createPrivateKey(readFileSync(join(m.stateDir, 'sa-key.pem'), 'utf8'));
    const client = await m.pod(NS, 'client');
    const bound = { namespace: NS, serviceAccount: 'default', audiences: ['skein-cp'], expirationSeconds: 600, pod: { name: 'client', uid: client.metadata.uid! } };
    const token = (over: Partial<TokenRequest> = {}): string => mintToken(key, { ...bound, ...over });
    const csr = opensslCsr(m.filesDir, 'spiffe://cluster.local/ns/kube-system/sa/admin');

    const ok = await certify(m, token(), csr);
    assert.ok(ok.ok, `a valid token is certified (${ok.details})`);
    assert.equal(ok.ok.spiffeId, SPIFFE_DEFAULT, 'the identity comes from the token, not from what the CSR claims');
    const leaf = new X509Certificate(ok.ok.certChainPem[0]!);
    assert.equal(leaf.subjectAltName, `URI:${SPIFFE_DEFAULT}`);

    const refused = async (what: string, t: string, code: grpc.status, c = csr): Promise<void> => {
      const r = await certify(m, t, c);
      assert.equal(r.code, code, `${what}: expected ${grpc.status[code]}, got ${r.ok ? 'a certificate' : grpc.status[r.code!]} (${r.details})`);
      assert.ok((r.details ?? '').length > 10, `${what}: the status says why (${r.details})`);
    };
    await refused('no token', '', grpc.status.UNAUTHENTICATED);
    await refused('an expired token', token({ now: Date.now() - 3_600_000 }), grpc.status.UNAUTHENTICATED);
    await refused('the wrong audience', token({ audiences: ['https://kubernetes.default.svc'] }), grpc.status.UNAUTHENTICATED);
    const other = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey;
    await refused('a token signed by another key', mintToken(other, bound), grpc.status.UNAUTHENTICATED);
    await refused('a token of a replaced pod (same name, other UID)', token({ pod: { name: 'client', uid: randomUUID() } }), grpc.status.PERMISSION_DENIED);
    const gonePod = pod({ name: 'gone', namespace: NS, containers: [{ name: 'toolbox', command: ['sleep', 'infinity'] }] });
    (gonePod['spec'] as Record<string, unknown>)['terminationGracePeriodSeconds'] = 1;
    await m.apply([gonePod]);
    await m.waitReady(NS, 'gone');
    const gone = await m.pod(NS, 'gone');
    const goneToken = token({ pod: { name: 'gone', uid: gone.metadata.uid! } });
    await m.cliOk(['delete', 'pod', 'gone', '-n', NS], { timeoutMs: 120_000 });
    // skein-cp learns of the deletion from its watch of the store (an informer on a cluster): poll for it.
    await pollUntil(async () => (await certify(m, goneToken, csr)).code === grpc.status.PERMISSION_DENIED || undefined,
      { what: 'skein-cp to refuse the deleted pod\'s token', timeoutMs: 10_000 });
    await refused('a token of a deleted pod', goneToken, grpc.status.PERMISSION_DENIED);
    // The CSR's signature proves possession of its key: a CSR whose signature was changed is refused.
    const der = Buffer.from(csr.replace(/-----[^-]+-----/g, '').replace(/\s+/g, ''), 'base64');
    der[der.length - 5] ^= 0x01;
    const tampered = `-----BEGIN CERTIFICATE REQUEST-----\n${der.toString('base64').replace(/(.{64})/g, '$1\n')}\n-----END CERTIFICATE REQUEST-----\n`;
    await refused('a CSR whose signature does not verify', token(), grpc.status.INVALID_ARGUMENT, tampered);
  }));
});
