// The leaf signing path: CSR checks (node:crypto proof of possession, P-256 only, size), the leaf profile,
// the TTL cap, user CAs made with the openssl CLI (root and intermediate), the checks on what a user
// gives, and real TLS 1.3 handshakes between two workloads holding issued leaves.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { X509Certificate, createPrivateKey } from 'node:crypto';
import { once } from 'node:events';
import * as tls from 'node:tls';
import type { AddressInfo } from 'node:net';
import { pino } from 'pino';
import { CertifyRefusal } from '../errors.js';
import type { WorkloadIdentity } from '../types.js';
import { MAX_CSR_PEM_BYTES } from './csr.js';
import { loadCaMaterial, type CaSource } from './material.js';
import { SwappableCa } from './mesh-ca.js';
import { generateRootCa } from './root.js';
import { makeCsr, opensslIntermediate, opensslRoot } from './testing/pki.js';
import { x509 } from './x509.js';

const quiet = pino({ level: 'silent' });
const WHERE = 'Secret skein-system/skein-ca';
const id = (ns: string, sa: string): WorkloadIdentity => ({ namespace: ns, serviceAccount: sa, spiffeId: `spiffe://cluster.local/ns/${ns}/sa/${sa}` });
const FRONTEND = id('shop', 'frontend');
const ORDERS = id('shop', 'orders');

async function caFrom(src: CaSource): Promise<SwappableCa> {
  const ca = new SwappableCa(quiet);
  ca.replace(await loadCaMaterial(src, WHERE));
  return ca;
}

async function refusal(p: Promise<unknown>): Promise<CertifyRefusal> {
  try {
    await p;
  } catch (err) {
    assert.ok(err instanceof CertifyRefusal, `expected a CertifyRefusal, got ${String(err)}`);
    return err;
  }
  assert.fail('expected a refusal');
}

/** A mutual TLS 1.3 handshake between two issued leaves, each side trusting `anchors`; returns what each side saw. */
async function handshake(server: { chain: string[]; key: string }, client: { chain: string[]; key: string }, anchors: string[]): Promise<{ serverSaw: string | undefined; clientSaw: string | undefined }> {
  const srv = tls.createServer({ key: server.key, cert: server.chain.join(''), ca: anchors, requestCert: true, rejectUnauthorized: true, minVersion: 'TLSv1.3' });
  srv.listen(0, '127.0.0.1');
  await once(srv, 'listening');
  // TLS 1.3: the client is "connected" before the server has checked its certificate; wait for both sides.
  const serverSide = new Promise<string | undefined>((resolve, reject) => {
    srv.once('secureConnection', (s: tls.TLSSocket) => { resolve(s.getPeerCertificate().subjectaltname); s.end(); });
    srv.once('tlsClientError', reject);
  });
  const sock = tls.connect({
    host: '127.0.0.1', port: (srv.address() as AddressInfo).port, key: client.key, cert: client.chain.join(''), ca: anchors,
    minVersion: 'TLSv1.3', checkServerIdentity: () => undefined,
  });
  const clientSide = new Promise<string | undefined>((resolve, reject) => {
    sock.once('secureConnect', () => resolve(sock.getPeerCertificate().subjectaltname));
    sock.once('error', reject);
  });
  try {
    const [serverSaw, clientSaw] = await Promise.all([serverSide, clientSide]);
    return { serverSaw, clientSaw };
  } finally {
    sock.destroy();
    srv.close();
  }
}

async function leafFor(ca: SwappableCa, who: WorkloadIdentity): Promise<{ chain: string[]; key: string }> {
  const csr = await makeCsr();
  const issued = await ca.sign({ csrPem: csr.csrPem, identity: who, ttlSeconds: 3600 });
  return { chain: issued.certChainPem, key: csr.keyPem };
}

test('a generated root signs a leaf with exactly the mesh profile, whatever the CSR claims', async () => {
  const root = await generateRootCa('cluster.local');
  const ca = await caFrom({ certPem: root.certPem, keyPem: root.keyPem });
  assert.equal(ca.trustAnchorsPem().length, 1);
  const rootCert = new X509Certificate(root.certPem);
  assert.equal(rootCert.ca, true);
  assert.match(rootCert.subject, /OU=cluster\.local/);
  const csr = await makeCsr('p256', 'CN=admin, O=system:masters', ['spiffe://cluster.local/ns/kube-system/sa/admin']);
  const before = Date.now();
  const issued = await ca.sign({ csrPem: csr.csrPem, identity: FRONTEND, ttlSeconds: 24 * 3600 });
  const after = Date.now();
  assert.equal(issued.certChainPem.length, 1, 'a root signs directly: no intermediates');
  assert.equal(issued.spiffeId, FRONTEND.spiffeId);
  const leaf = new X509Certificate(issued.certChainPem[0] ?? '');
  assert.equal(leaf.subjectAltName, `URI:${FRONTEND.spiffeId}`, 'the one SAN is the identity from the token, not the CSR');
  assert.equal(leaf.subject, undefined, 'empty subject: nothing of the CSR subject is copied');
  assert.equal(leaf.ca, false);
  assert.deepEqual([...(leaf.keyUsage ?? [])].sort(), ['1.3.6.1.5.5.7.3.1', '1.3.6.1.5.5.7.3.2']);
  assert.equal(leaf.serialNumber.toLowerCase().replace(/^0+/, ''), issued.serial.replace(/^0+/, ''));
  assert.ok(leaf.checkIssued(rootCert) && leaf.verify(rootCert.publicKey));
  assert.ok(leaf.checkPrivateKey(createPrivateKey(csr.keyPem)), 'the leaf carries the CSR key');
  const p = new x509.X509Certificate(leaf.raw);
  const bc = p.getExtension(x509.BasicConstraintsExtension);
  assert.ok(bc && bc.critical && !bc.ca);
  const ku = p.getExtension(x509.KeyUsagesExtension);
  assert.equal(ku?.usages, x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyAgreement);
  const san = p.getExtension(x509.SubjectAlternativeNameExtension);
  assert.ok(san?.critical, 'SAN is critical with an empty subject (RFC 5280 4.2.1.6)');
  assert.equal(san?.names.items.length, 1);
  const nb = new Date(leaf.validFrom).getTime();
  const na = new Date(leaf.validTo).getTime();
  assert.ok(nb >= before - 61_000 && nb <= after - 59_000, 'notBefore is backdated by 60 s');
  assert.ok(na >= before + 24 * 3600_000 - 1000 && na <= after + 24 * 3600_000, 'notAfter is now + ttl');
  assert.equal(Math.floor(issued.expiresAt.getTime() / 1000) * 1000, na, 'expiresAt is the leaf notAfter');
  const again = await ca.sign({ csrPem: csr.csrPem, identity: FRONTEND, ttlSeconds: 3600 });
  assert.notEqual(again.serial, issued.serial, 'serials are random');
});

test('two workloads holding leaves of the generated root complete a mutual TLS 1.3 handshake and see each other\'s SPIFFE ID', async () => {
  const root = await generateRootCa('cluster.local');
  const ca = await caFrom({ certPem: root.certPem, keyPem: root.keyPem });
  const seen = await handshake(await leafFor(ca, ORDERS), await leafFor(ca, FRONTEND), ca.trustAnchorsPem());
  assert.equal(seen.serverSaw, `URI:${FRONTEND.spiffeId}`);
  assert.equal(seen.clientSaw, `URI:${ORDERS.spiffeId}`);
});

test('CSR checks: bad signature, non-P-256 keys, oversized and malformed requests are refused with their reason', async () => {
  const root = await generateRootCa('cluster.local');
  const ca = await caFrom({ certPem: root.certPem, keyPem: root.keyPem });
  const good = await makeCsr('p256', 'CN=victim');
  // Change one byte of the signed content (the subject) and keep the signature: valid DER, wrong signature.
  const der = Buffer.from(good.csrPem.replace(/-----[^-]+-----/g, '').replace(/\s/g, ''), 'base64');
  const at = der.indexOf(Buffer.from('victim'));
  assert.ok(at > 0);
  der[at] = 'V'.charCodeAt(0);
  const tampered = `-----BEGIN CERTIFICATE REQUEST-----\n${der.toString('base64').replace(/(.{64})/g, '$1\n')}\n-----END CERTIFICATE REQUEST-----\n`;
  assert.equal((await refusal(ca.sign({ csrPem: tampered, identity: FRONTEND, ttlSeconds: 3600 }))).reason, 'csr_signature');

  const p384 = await refusal(ca.sign({ csrPem: (await makeCsr('p384')).csrPem, identity: FRONTEND, ttlSeconds: 3600 }));
  assert.equal(p384.reason, 'unsupported_key');
  assert.match(p384.message, /P-256/);
  assert.match(p384.message, /secp384r1/);
  const rsa = await refusal(ca.sign({ csrPem: (await makeCsr('rsa2048')).csrPem, identity: FRONTEND, ttlSeconds: 3600 }));
  assert.equal(rsa.reason, 'unsupported_key');
  assert.match(rsa.message, /P-256/);

  const big = `${good.csrPem}${' '.repeat(MAX_CSR_PEM_BYTES)}`;
  assert.equal((await refusal(ca.sign({ csrPem: big, identity: FRONTEND, ttlSeconds: 3600 }))).reason, 'oversized');
  assert.equal((await refusal(ca.sign({ csrPem: 'hello', identity: FRONTEND, ttlSeconds: 3600 }))).reason, 'bad_csr');
  const truncated = `-----BEGIN CERTIFICATE REQUEST-----\n${der.subarray(0, 80).toString('base64')}\n-----END CERTIFICATE REQUEST-----\n`;
  assert.equal((await refusal(ca.sign({ csrPem: truncated, identity: FRONTEND, ttlSeconds: 3600 }))).reason, 'bad_csr');
  const trailing = `-----BEGIN CERTIFICATE REQUEST-----\n${Buffer.concat([Buffer.from(good.csrPem.replace(/-----[^-]+-----/g, '').replace(/\s/g, ''), 'base64'), Buffer.from([0])]).toString('base64')}\n-----END CERTIFICATE REQUEST-----\n`;
  assert.equal((await refusal(ca.sign({ csrPem: trailing, identity: FRONTEND, ttlSeconds: 3600 }))).reason, 'bad_csr');
});

test('the TTL is capped at the notAfter of the CA (and of the intermediate above the leaf)', async () => {
  const root = opensslRoot({ cn: 'short root', days: 2 });
  const ca = await caFrom(root);
  const rootEnd = new Date(new X509Certificate(root.certPem).validTo);
  const issued = await ca.sign({ csrPem: (await makeCsr()).csrPem, identity: FRONTEND, ttlSeconds: 30 * 24 * 3600 });
  assert.equal(issued.expiresAt.getTime(), rootEnd.getTime());
  assert.equal(new Date(new X509Certificate(issued.certChainPem[0] ?? '').validTo).getTime(), rootEnd.getTime());

  const longRoot = opensslRoot({ cn: 'long root', days: 3650 });
  const int = opensslIntermediate(longRoot, 'int 200d'); // 200 days
  const ica = await caFrom({ certPem: int.certPem, keyPem: int.keyPem, caCrtPem: longRoot.certPem });
  const capped = await ica.sign({ csrPem: (await makeCsr()).csrPem, identity: FRONTEND, ttlSeconds: 365 * 24 * 3600 });
  assert.equal(capped.expiresAt.getTime(), new Date(new X509Certificate(int.certPem).validTo).getTime());
});

test('a user intermediate (openssl, SEC1 key, root in ca.crt): the chain verifies with node:crypto and in a TLS handshake trusting only the root', async () => {
  const root = opensslRoot({ cn: 'acme root', key: 'rsa', days: 3650 });
  const int = opensslIntermediate(root, 'acme mesh intermediate');
  assert.match(int.keyPem, /BEGIN EC PRIVATE KEY/);
  const ca = await caFrom({ certPem: int.certPem, keyPem: int.keyPem, caCrtPem: root.certPem });
  assert.deepEqual(ca.trustAnchorsPem().map((p) => new X509Certificate(p).fingerprint256), [new X509Certificate(root.certPem).fingerprint256]);
  const a = await leafFor(ca, ORDERS);
  assert.equal(a.chain.length, 2, 'leaf, then the intermediate');
  const [leafPem, intPem] = a.chain;
  const leaf = new X509Certificate(leafPem ?? '');
  const intCert = new X509Certificate(intPem ?? '');
  const rootCert = new X509Certificate(root.certPem);
  assert.ok(leaf.checkIssued(intCert) && leaf.verify(intCert.publicKey));
  assert.ok(intCert.checkIssued(rootCert) && intCert.verify(rootCert.publicKey));
  const seen = await handshake(a, await leafFor(ca, FRONTEND), [root.certPem]);
  assert.equal(seen.serverSaw, `URI:${FRONTEND.spiffeId}`);
  assert.equal(seen.clientSaw, `URI:${ORDERS.spiffeId}`);

  // The same intermediate with its root appended in tls.crt instead of ca.crt.
  const inline = await caFrom({ certPem: int.certPem + root.certPem, keyPem: int.keyPem });
  assert.equal(inline.trustAnchorsPem().length, 1);
  assert.equal((await leafFor(inline, ORDERS)).chain.length, 2, 'the root is never sent in the chain');
});

test('a root without a keyUsage extension (openssl\'s default) and an RSA root are accepted', async () => {
  const plain = opensslRoot({ cn: 'plain', extensions: 'basicConstraints=critical,CA:TRUE\n' });
  const a = await caFrom(plain);
  const leaf = new X509Certificate((await leafFor(a, ORDERS)).chain[0] ?? '');
  assert.ok(leaf.verify(new X509Certificate(plain.certPem).publicKey));
  const rsa = opensslRoot({ cn: 'rsa', key: 'rsa' });
  const b = await caFrom(rsa);
  assert.ok(new X509Certificate((await leafFor(b, ORDERS)).chain[0] ?? '').verify(new X509Certificate(rsa.certPem).publicKey));
});

async function loadError(src: CaSource, now?: Date): Promise<string> {
  try {
    await loadCaMaterial(src, WHERE, now);
  } catch (err) {
    return (err as Error).message;
  }
  assert.fail('expected the CA to be refused');
}

test('what a user gives is checked, and the error names the Secret and the fix', async () => {
  const a = opensslRoot({ cn: 'a' });
  const b = opensslRoot({ cn: 'b' });
  const mismatch = await loadError({ certPem: a.certPem, keyPem: b.keyPem });
  assert.match(mismatch, /^Secret skein-system\/skein-ca: tls\.key is not the private key of .*tls\.crt; put the matching pair/);
  const notCa = opensslRoot({ cn: 'leafish', extensions: 'basicConstraints=critical,CA:FALSE\n' });
  assert.match(await loadError(notCa), /skein-ca: .* is not a CA .*isCA: true/);
  const noSign = opensslRoot({ cn: 'nosign', extensions: 'basicConstraints=critical,CA:TRUE\nkeyUsage=critical,digitalSignature\n' });
  assert.match(await loadError(noSign), /keyCertSign/);
  const later = new Date(Date.now() + 400 * 24 * 3600_000);
  assert.match(await loadError(a, later), /skein-ca: the certificate in tls\.crt .* expired at .*; put a valid CA in it/);
  const int = opensslIntermediate(a, 'orphan');
  assert.match(await loadError({ certPem: int.certPem, keyPem: int.keyPem }), /issued by .*CN=a.*put the issuing chain up to the self-signed root in ca\.crt/);
  assert.match(await loadError({ certPem: a.certPem, keyPem: 'not a key' }), /tls\.key does not parse/);
  assert.match(await loadError({ certPem: a.certPem, keyPem: a.keyPem, extraRootsPem: int.certPem }), /extra-roots\.pem must hold self-signed CA certificates/);
});

test('rotation: with old and new roots as anchors, a leaf of the old CA and a leaf of the new CA still handshake', async () => {
  const oldRoot = await generateRootCa('cluster.local');
  const newRoot = await generateRootCa('cluster.local');
  const oldCa = await caFrom({ certPem: oldRoot.certPem, keyPem: oldRoot.keyPem, extraRootsPem: newRoot.certPem });
  const newCa = await caFrom({ certPem: newRoot.certPem, keyPem: newRoot.keyPem, extraRootsPem: oldRoot.certPem });
  assert.deepEqual(oldCa.trustAnchorsPem(), newCa.trustAnchorsPem(), 'both phases publish the same two anchors');
  assert.equal(newCa.trustAnchorsPem().length, 2);
  const seen = await handshake(await leafFor(oldCa, ORDERS), await leafFor(newCa, FRONTEND), newCa.trustAnchorsPem());
  assert.equal(seen.serverSaw, `URI:${FRONTEND.spiffeId}`);
  // Without the old root, the old leaf is refused: the extra root is what keeps connections up.
  const onlyNew = (await caFrom({ certPem: newRoot.certPem, keyPem: newRoot.keyPem })).trustAnchorsPem();
  await assert.rejects(handshake(await leafFor(oldCa, ORDERS), await leafFor(newCa, FRONTEND), onlyNew));
});

test('a malformed SPIFFE ID, or one that names another service account, is never written into a certificate', async () => {
  const root = await generateRootCa('cluster.local');
  const ca = await caFrom({ certPem: root.certPem, keyPem: root.keyPem });
  const csrPem = (await makeCsr()).csrPem;
  for (const spiffeId of [
    'spiffe://cluster.local/ns/shop/sa/../admin', 'spiffe://cluster.local/ns/shop/sa/we%62', 'spiffe://cluster.local/ns/shop/sa/Web',
    'spiffe://cluster.local/ns/shop/sa/web\u0000x', 'spiffe://cluster.local/ns/shop/sa/other', 'https://cluster.local/ns/shop/sa/web',
  ]) {
    await assert.rejects(ca.sign({ csrPem, identity: { namespace: 'shop', serviceAccount: 'web', spiffeId }, ttlSeconds: 3600 }), /malformed SPIFFE ID/, spiffeId);
  }
  const dotted = await ca.sign({ csrPem, identity: id('shop', 'web.v2'), ttlSeconds: 3600 });
  assert.equal(new X509Certificate(dotted.certChainPem[0] ?? '').subjectAltName, 'URI:spiffe://cluster.local/ns/shop/sa/web.v2');
});
