// The signing material of the mesh CA, from the four PEM texts a user (or skein-cp itself) provides, laid
// out as cert-manager lays out a CA Secret:
//   tls.crt         the signing certificate (a root, or an intermediate), optionally followed by its chain
//   tls.key         its private key (PKCS#8, SEC1 or PKCS#1 PEM, unencrypted)
//   ca.crt          optional: the root(s) the chain ends at (required when tls.crt is an intermediate)
//   extra-roots.pem optional: more roots to trust without signing with them (the old root during a rotation)
// Everything is checked here with node:crypto before it is used, and a failure says which piece is wrong
// and what to do, prefixed with where it came from (the Secret or the directory).
import { X509Certificate, createPrivateKey, type KeyObject } from 'node:crypto';
import { TlsMaterialError } from '../../errors.js';
import { splitPemCertificates, subtle, x509, type CryptoKey, type SigningAlgorithm } from './x509.js';

export const KEY_TLS_CRT = 'tls.crt';
export const KEY_TLS_KEY = 'tls.key';
export const KEY_CA_CRT = 'ca.crt';
export const KEY_EXTRA_ROOTS = 'extra-roots.pem';

export interface CaSource {
  readonly certPem: string;
  readonly keyPem: string;
  readonly caCrtPem?: string | undefined;
  readonly extraRootsPem?: string | undefined;
}

export interface CaMaterial {
  /** The certificate that signs leaves. */
  readonly signer: X509Certificate;
  readonly signerName: x509.Name;
  /** Hex key identifier of the signer, for the leaves' authorityKeyIdentifier. */
  readonly signerKeyId: string;
  readonly signingKey: CryptoKey;
  readonly signingAlgorithm: SigningAlgorithm;
  /** What follows a leaf in a chain: the signer (when it is not a root) and the intermediates above it. */
  readonly chainPem: readonly string[];
  /** The roots peers trust: the chain's root, the other ca.crt roots, the extra roots; unique, sorted. */
  readonly anchorsPem: readonly string[];
  /** The earliest notAfter of the signer and the certificates above it: no leaf may outlive it. */
  readonly notAfter: Date;
  readonly fingerprint: string;
}

const isSelfSigned = (c: X509Certificate): boolean => c.checkIssued(c) && c.verify(c.publicKey);

function parseCerts(where: string, key: string, text: string | undefined): X509Certificate[] {
  if (text === undefined || text.trim() === '') return [];
  const blocks = splitPemCertificates(text);
  if (blocks.length === 0) throw new TlsMaterialError(`${where}: ${key} holds no PEM certificate; put PEM "CERTIFICATE" blocks in it`);
  return blocks.map((b, i) => {
    try {
      return new X509Certificate(b);
    } catch (err) {
      throw new TlsMaterialError(`${where}: certificate ${i + 1} of ${key} does not parse (${(err as Error).message}); replace it with a valid PEM certificate`, { cause: err });
    }
  });
}

function checkValid(where: string, what: string, c: X509Certificate, now: Date): void {
  if (new Date(c.validTo) <= now) throw new TlsMaterialError(`${where}: ${what} (${c.subject.replace(/\n/g, ', ')}) expired at ${new Date(c.validTo).toISOString()}; put a valid CA in it`);
  if (new Date(c.validFrom) > now) throw new TlsMaterialError(`${where}: ${what} (${c.subject.replace(/\n/g, ', ')}) is not valid before ${new Date(c.validFrom).toISOString()}; check the clock or the certificate`);
}

function keyUsageOk(c: X509Certificate): boolean {
  const ku = new x509.X509Certificate(c.raw).getExtension(x509.KeyUsagesExtension);
  // No keyUsage extension: every usage is allowed (RFC 5280 §4.2.1.3), as OpenSSL treats it.
  return ku === null || (ku.usages & x509.KeyUsageFlags.keyCertSign) !== 0;
}

async function importSigningKey(where: string, keyPem: string, cert: X509Certificate): Promise<{ key: CryptoKey; alg: SigningAlgorithm }> {
  let key: KeyObject;
  try {
    key = createPrivateKey(keyPem);
  } catch (err) {
    const msg = (err as Error).message;
    const hint = /passphrase|encrypted/i.test(msg) ? 'it is encrypted; store the key unencrypted' : 'put the PEM private key of tls.crt in it';
    throw new TlsMaterialError(`${where}: ${KEY_TLS_KEY} does not parse as a private key (${msg}); ${hint}`, { cause: err });
  }
  if (!cert.checkPrivateKey(key)) {
    throw new TlsMaterialError(`${where}: ${KEY_TLS_KEY} is not the private key of the first certificate in ${KEY_TLS_CRT}; put the matching pair`);
  }
  const pkcs8 = key.export({ type: 'pkcs8', format: 'der' });
  if (key.asymmetricKeyType === 'ec') {
    const curve = { prime256v1: 'P-256', secp384r1: 'P-384', secp521r1: 'P-521' }[key.asymmetricKeyDetails?.namedCurve ?? ''];
    if (!curve) throw new TlsMaterialError(`${where}: the CA key is on curve ${key.asymmetricKeyDetails?.namedCurve}; use P-256, P-384 or P-521`);
    const hash = { 'P-256': 'SHA-256', 'P-384': 'SHA-384', 'P-521': 'SHA-512' }[curve];
    const imported = await subtle.importKey('pkcs8', pkcs8, { name: 'ECDSA', namedCurve: curve }, false, ['sign']);
    return { key: imported, alg: { name: 'ECDSA', hash } as SigningAlgorithm };
  }
  if (key.asymmetricKeyType === 'rsa') {
    const imported = await subtle.importKey('pkcs8', pkcs8, { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' }, false, ['sign']);
    return { key: imported, alg: { name: 'RSASSA-PKCS1-v1_5' } };
  }
  throw new TlsMaterialError(`${where}: the CA key is ${key.asymmetricKeyType}; use an ECDSA (P-256 recommended) or RSA CA key`);
}

/** Checks and loads a CA; `where` names its origin in errors ("Secret skein-system/skein-ca"). */
export async function loadCaMaterial(src: CaSource, where: string, now: Date = new Date()): Promise<CaMaterial> {
  const tlsCerts = parseCerts(where, KEY_TLS_CRT, src.certPem);
  const signer = tlsCerts[0];
  if (!signer) throw new TlsMaterialError(`${where}: ${KEY_TLS_CRT} is empty; put the CA certificate in it`);
  // keyUsage first: node:crypto's `ca` is also false for a CA certificate whose keyUsage lacks keyCertSign.
  if (!keyUsageOk(signer)) throw new TlsMaterialError(`${where}: the certificate in ${KEY_TLS_CRT} may not sign certificates (keyUsage lacks keyCertSign); issue it with the "cert sign" usage`);
  if (!signer.ca) throw new TlsMaterialError(`${where}: the certificate in ${KEY_TLS_CRT} is not a CA (basicConstraints CA:FALSE); issue a CA certificate (isCA: true in cert-manager)`);
  checkValid(where, `the certificate in ${KEY_TLS_CRT}`, signer, now);
  const { key, alg } = await importSigningKey(where, src.keyPem, signer);

  const caCrt = parseCerts(where, KEY_CA_CRT, src.caCrtPem);
  const extra = parseCerts(where, KEY_EXTRA_ROOTS, src.extraRootsPem);
  const pool = [...tlsCerts.slice(1), ...caCrt];
  // Walk up from the signer to a self-signed root, each link checked by signature.
  const chain: X509Certificate[] = [];
  let cur = signer;
  let notAfter = new Date(signer.validTo);
  let root: X509Certificate | undefined = isSelfSigned(signer) ? signer : undefined;
  while (!root) {
    if (chain.length > 4) throw new TlsMaterialError(`${where}: the chain of ${KEY_TLS_CRT} is longer than 5 certificates; shorten it`);
    chain.push(cur);
    const c = cur;
    const issuer = pool.find((p) => c.checkIssued(p) && c.verify(p.publicKey));
    if (!issuer) {
      throw new TlsMaterialError(`${where}: ${c.subject.replace(/\n/g, ', ')} is issued by ${c.issuer.replace(/\n/g, ', ')}, which is neither in ${KEY_TLS_CRT} after it nor in ${KEY_CA_CRT}; put the issuing chain up to the self-signed root in ${KEY_CA_CRT}`);
    }
    if (!issuer.ca) throw new TlsMaterialError(`${where}: ${issuer.subject.replace(/\n/g, ', ')} in the chain is not a CA`);
    checkValid(where, `a certificate of the chain`, issuer, now);
    const end = new Date(issuer.validTo);
    if (end < notAfter) notAfter = end;
    if (isSelfSigned(issuer)) root = issuer;
    else cur = issuer;
  }
  const anchors = new Map<string, string>();
  const addAnchor = (c: X509Certificate): void => { anchors.set(c.fingerprint256, c.toString()); };
  addAnchor(root);
  for (const c of caCrt) if (isSelfSigned(c)) addAnchor(c);
  for (const c of extra) {
    if (!c.ca || !isSelfSigned(c)) throw new TlsMaterialError(`${where}: ${KEY_EXTRA_ROOTS} must hold self-signed CA certificates only; ${c.subject.replace(/\n/g, ', ')} is not one`);
    if (new Date(c.validTo) <= now) continue; // an expired root can verify nothing; keeping it would only mislead
    addAnchor(c);
  }
  const skiHex = new x509.X509Certificate(signer.raw).getExtension(x509.SubjectKeyIdentifierExtension)?.keyId;
  const signerKeyId = skiHex ?? Buffer.from(await (await x509.PublicKey.create(signer.publicKey.export({ type: 'spki', format: 'der' }))).getKeyIdentifier()).toString('hex');
  return {
    signer,
    signerName: new x509.X509Certificate(signer.raw).subjectName,
    signerKeyId,
    signingKey: key,
    signingAlgorithm: alg,
    chainPem: chain.map((c) => c.toString()),
    anchorsPem: [...anchors.keys()].sort().map((k) => anchors.get(k) ?? ''),
    notAfter,
    fingerprint: signer.fingerprint256,
  };
}
