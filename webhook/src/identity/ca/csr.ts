// Proof of possession: a sidecar's CSR is accepted only if its signature verifies, with node:crypto, over
// the exact certificationRequestInfo bytes it sent, under the public key inside it. Nothing else in the
// CSR counts: its subject, SANs and attributes are ignored (the identity comes from the token). Only
// ECDSA P-256 keys are accepted: the mesh's handshakes are priced for P-256 (≈22 µs a signature against
// ≈250 µs for RSA-2048), and one key type keeps every sidecar's TLS the same.
import { createPublicKey, verify, type KeyObject } from 'node:crypto';
import { CertifyRefusal } from '../errors.js';
import { DerError, TAG, bytes, children, readTlv, value } from './der.js';

/** Larger PEM CSRs are refused before any parsing: a P-256 CSR is about 500 bytes. */
export const MAX_CSR_PEM_BYTES = 8 * 1024;

const ECDSA_WITH_SHA256 = Buffer.from('2a8648ce3d040302', 'hex'); // 1.2.840.10045.4.3.2
const ECDSA_WITH_SHA384 = Buffer.from('2a8648ce3d040303', 'hex'); // 1.2.840.10045.4.3.3

export interface VerifiedCsr {
  /** SubjectPublicKeyInfo DER of the (P-256) key the CSR was signed with. */
  readonly spkiDer: Buffer;
  readonly publicKey: KeyObject;
}

const PEM_RE = /^\s*-----BEGIN (NEW )?CERTIFICATE REQUEST-----\r?\n([A-Za-z0-9+/=\r\n]+)-----END (NEW )?CERTIFICATE REQUEST-----\s*$/;

function derOf(csrPem: string): Buffer {
  const m = PEM_RE.exec(csrPem);
  if (!m?.[2]) throw new CertifyRefusal('bad_csr', 'the CSR is not one PEM "CERTIFICATE REQUEST" block; send a PKCS#10 CSR in PEM');
  return Buffer.from(m[2].replace(/[\r\n]/g, ''), 'base64');
}

function keyDescription(key: KeyObject): string {
  const d = key.asymmetricKeyDetails;
  if (key.asymmetricKeyType === 'ec') return `EC ${d?.namedCurve ?? 'unknown curve'}`;
  if (key.asymmetricKeyType === 'rsa') return `RSA ${d?.modulusLength ?? '?'}`;
  return key.asymmetricKeyType ?? 'unknown';
}

/** Parses and verifies a CSR; throws CertifyRefusal 'oversized' | 'bad_csr' | 'unsupported_key' | 'csr_signature'. */
export function verifyCsr(csrPem: string): VerifiedCsr {
  if (Buffer.byteLength(csrPem, 'utf8') > MAX_CSR_PEM_BYTES) {
    throw new CertifyRefusal('oversized', `the CSR is ${Buffer.byteLength(csrPem, 'utf8')} bytes; at most ${MAX_CSR_PEM_BYTES} bytes of PEM are accepted (a P-256 CSR needs about 500)`);
  }
  const der = derOf(csrPem);
  let cri: Buffer; let spkiDer: Buffer; let hash: 'sha256' | 'sha384'; let signature: Buffer;
  try {
    const outer = readTlv(der, 0);
    if (outer.tag !== TAG.SEQUENCE || outer.end !== der.length) throw new DerError('not a single SEQUENCE');
    const [info, alg, sig, ...extra] = children(der, outer);
    if (!info || !alg || !sig || extra.length > 0) throw new DerError('a CSR has exactly three elements');
    if (info.tag !== TAG.SEQUENCE || alg.tag !== TAG.SEQUENCE || sig.tag !== TAG.BIT_STRING) throw new DerError('unexpected element types');
    const [version, subject, spki, attributes, ...more] = children(der, info);
    if (!version || !subject || !spki || !attributes || more.length > 0) throw new DerError('certificationRequestInfo has four elements');
    if (version.tag !== TAG.INTEGER || !value(der, version).equals(Buffer.from([0]))) throw new DerError('version must be 0 (v1)');
    if (subject.tag !== TAG.SEQUENCE || spki.tag !== TAG.SEQUENCE || attributes.tag !== TAG.CONTEXT_0) throw new DerError('unexpected certificationRequestInfo types');
    const [oid, params, ...rest] = children(der, alg);
    if (!oid || oid.tag !== TAG.OID) throw new DerError('unexpected signatureAlgorithm');
    const oidValue = value(der, oid);
    if (oidValue.equals(ECDSA_WITH_SHA256)) hash = 'sha256';
    else if (oidValue.equals(ECDSA_WITH_SHA384)) hash = 'sha384';
    else {
      throw new CertifyRefusal('unsupported_key', 'the CSR is not signed with ECDSA (SHA-256 or SHA-384); skein-cp signs ECDSA P-256 keys only');
    }
    if (params !== undefined || rest.length > 0) throw new DerError('ECDSA signatureAlgorithm takes no parameters');
    const bits = value(der, sig);
    if (bits.length < 2 || bits[0] !== 0) throw new DerError('signature BIT STRING has unused bits');
    cri = bytes(der, info);
    spkiDer = bytes(der, spki);
    signature = bits.subarray(1);
  } catch (err) {
    if (err instanceof CertifyRefusal) throw err;
    throw new CertifyRefusal('bad_csr', `the CSR is not valid DER PKCS#10 (${(err as Error).message})`, { cause: err });
  }
  let publicKey: KeyObject;
  try {
    publicKey = createPublicKey({ key: spkiDer, format: 'der', type: 'spki' });
  } catch (err) {
    throw new CertifyRefusal('bad_csr', `the CSR's public key does not parse (${(err as Error).message})`, { cause: err });
  }
  if (publicKey.asymmetricKeyType !== 'ec' || publicKey.asymmetricKeyDetails?.namedCurve !== 'prime256v1') {
    throw new CertifyRefusal('unsupported_key', `the CSR's key is ${keyDescription(publicKey)}; skein-cp signs ECDSA P-256 (prime256v1) keys only`);
  }
  let ok: boolean;
  try {
    ok = verify(hash, cri, { key: publicKey, dsaEncoding: 'der' }, signature);
  } catch {
    ok = false;
  }
  if (!ok) throw new CertifyRefusal('csr_signature', 'the CSR signature does not verify with the key it carries; sign the CSR with the private key whose public key it contains');
  return { spkiDer, publicKey };
}
