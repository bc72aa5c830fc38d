// One Identity.Certify call: a fresh P-256 key (every certificate gets its own; the old key leaves with
// the old certificate), its CSR, the token read from disk, and a strict check of the answer before it may
// replace anything: the leaf must carry our public key and one SPIFFE URI SAN, be valid now, and chain to
// the trust anchors that came with it. A bad answer is refused like an outage (the old certificate stays).
import { X509Certificate, createPublicKey, generateKeyPair, type KeyObject } from 'node:crypto';
import { promisify } from 'node:util';
import { Metadata, status as GrpcStatus, type ServiceError } from '@grpc/grpc-js';
import type { CertifyResponse } from '@skein/api';
import { SkeinError } from '../errors.js';
import { createCsrPem } from './csr.js';
import { splitPem } from './pem.js';
import type { ControlPlane } from './control-plane.js';
import type { WorkloadCertificate } from './index.js';

export { splitPem };

/** How a Certify attempt ended, a bounded metric label. */
export type CertifyResult = 'ok' | 'unavailable' | 'refused' | 'invalid' | 'error';

export class CertifyError extends SkeinError {
  constructor(readonly result: Exclude<CertifyResult, 'ok'>, message: string, readonly grpcCode?: number, options?: { cause?: unknown }) {
    super(`certify_${result}`, message, options);
  }
}

const generateKeyPairAsync = promisify(generateKeyPair);

/** A new ECDSA P-256 key in memory (never exported anywhere but into the TLS context). */
export async function newWorkloadKey(): Promise<KeyObject> {
  const { privateKey } = await generateKeyPairAsync('ec', { namedCurve: 'P-256' });
  return privateKey;
}

export async function requestCertificate(cp: ControlPlane, ttlSeconds: number, timeoutMs = 10_000): Promise<WorkloadCertificate> {
  let token: string;
  try {
    token = await cp.token();
  } catch (err) {
    throw new CertifyError('error', `cannot read the token: ${(err as Error).message}`, undefined, { cause: err });
  }
  const key = await newWorkloadKey();
  const csrPem = createCsrPem(key);
  let client;
  try {
    client = await cp.identityClient();
  } catch (err) {
    throw new CertifyError('error', (err as Error).message, undefined, { cause: err });
  }
  try {
    const response = await new Promise<CertifyResponse>((resolve, reject) => {
      client.certify({ token, csrPem, requestedTtlSeconds: ttlSeconds }, new Metadata(), { deadline: Date.now() + timeoutMs },
        (err, res) => (err ? reject(err) : resolve(res)));
    });
    return parseIssued(response, key);
  } catch (err) {
    if (err instanceof CertifyError) throw err;
    const code = (err as ServiceError).code;
    throw new CertifyError(resultOf(code), `Certify failed: ${(err as Error).message}`, code, { cause: err });
  } finally {
    client.close();
  }
}

function resultOf(code: number | undefined): Exclude<CertifyResult, 'ok'> {
  switch (code) {
    case GrpcStatus.UNAVAILABLE:
    case GrpcStatus.DEADLINE_EXCEEDED:
    case GrpcStatus.CANCELLED:
      return 'unavailable';
    case GrpcStatus.UNAUTHENTICATED:
    case GrpcStatus.PERMISSION_DENIED:
    case GrpcStatus.INVALID_ARGUMENT:
    case GrpcStatus.RESOURCE_EXHAUSTED:
    case GrpcStatus.FAILED_PRECONDITION:
      return 'refused';
    default:
      return 'error';
  }
}

const invalid = (message: string): CertifyError => new CertifyError('invalid', `skein-cp's certificate is not usable: ${message}`);

/** Checks a CertifyResponse against the key it is for; throws CertifyError('invalid'). */
export function parseIssued(response: CertifyResponse, key: KeyObject, now = new Date()): WorkloadCertificate {
  const pems = response.certChainPem.flatMap(splitPem);
  if (pems.length === 0) throw invalid('the response holds no certificate');
  let chain: X509Certificate[];
  let anchors: X509Certificate[];
  try {
    chain = pems.map((pem) => new X509Certificate(pem));
    anchors = response.trustAnchorsPem.flatMap(splitPem).map((pem) => new X509Certificate(pem));
  } catch (err) {
    throw invalid(`a certificate does not parse (${(err as Error).message})`);
  }
  const leaf = chain[0] as X509Certificate;
  const ours = createPublicKey(key).export({ type: 'spki', format: 'der' });
  if (!leaf.publicKey.export({ type: 'spki', format: 'der' }).equals(ours)) throw invalid('the leaf is not for our key');
  const uris = (leaf.subjectAltName ?? '').split(', ').filter((san) => san.startsWith('URI:')).map((san) => san.slice(4));
  if (uris.length !== 1 || !uris[0]?.startsWith('spiffe://')) throw invalid(`the leaf must name one SPIFFE URI SAN, it names ${JSON.stringify(uris)}`);
  const spiffeId = uris[0];
  if (response.spiffeId !== '' && response.spiffeId !== spiffeId) {
    throw invalid(`the response says ${response.spiffeId} but the leaf names ${spiffeId}`);
  }
  const notBefore = new Date(leaf.validFrom);
  const notAfter = new Date(leaf.validTo);
  if (Number.isNaN(notBefore.getTime()) || Number.isNaN(notAfter.getTime())) throw invalid('unreadable validity dates');
  if (notAfter <= now) throw invalid(`the leaf expired at ${notAfter.toISOString()}`);
  if (anchors.length === 0) throw invalid('the response holds no trust anchor');
  for (let i = 0; i + 1 < chain.length; i++) {
    const cert = chain[i] as X509Certificate;
    const issuer = chain[i + 1] as X509Certificate;
    if (!cert.checkIssued(issuer) || !cert.verify(issuer.publicKey)) throw invalid(`certificate ${i} of the chain is not signed by the next one`);
  }
  if (!issuedByAnyOf(chain[chain.length - 1] as X509Certificate, anchors)) throw invalid('the chain does not lead to a trust anchor');
  return {
    spiffeId, certChainPem: pems.join(''), key,
    trustAnchorsPem: response.trustAnchorsPem.flatMap(splitPem),
    notBefore, notAfter, serial: leaf.serialNumber,
  };
}

function issuedByAnyOf(cert: X509Certificate, anchors: readonly X509Certificate[]): boolean {
  return anchors.some((a) => cert.checkIssued(a) && cert.verify(a.publicKey));
}

/**
 * Whether the last certificate of `chainPem` is signed by one of `anchorsPem`: false once a root rotation
 * has dropped the root our certificate came from (then peers no longer accept it: renew at once).
 */
export function chainsToAnchors(chainPem: string, anchorsPem: readonly string[]): boolean {
  const chain = splitPem(chainPem);
  const top = chain[chain.length - 1];
  if (top === undefined) return false;
  try {
    return issuedByAnyOf(new X509Certificate(top), anchorsPem.flatMap(splitPem).map((pem) => new X509Certificate(pem)));
  } catch {
    return false;
  }
}
