// The TLS material skein-cp serves with, checked with node:crypto (never forge) before it is used:
// the serving certificate must chain to the CA, match its key, and be within its validity window.
import { X509Certificate, createPrivateKey } from 'node:crypto';
import { TlsMaterialError } from '../errors.js';

/** What the webhook and gRPC listeners need. The CA key is not here: it never leaves the store. */
export interface ServingMaterial {
  /** PEM of the CA that signed `certPem`: what clients (API server caBundle, skein-local) trust. */
  readonly caCertPem: string;
  readonly certPem: string;
  readonly keyPem: string;
}

export interface CheckedServing extends ServingMaterial {
  readonly validFrom: Date;
  readonly validTo: Date;
  /** SHA-256 fingerprint of the serving certificate, safe to log. */
  readonly fingerprint: string;
}

/** Parses and cross-checks serving material; throws TlsMaterialError naming what is wrong. */
export function checkServing(material: ServingMaterial, now: Date = new Date()): CheckedServing {
  let ca: X509Certificate;
  let leaf: X509Certificate;
  try {
    ca = new X509Certificate(material.caCertPem);
    leaf = new X509Certificate(material.certPem);
  } catch (err) {
    throw new TlsMaterialError('the CA or serving certificate does not parse as PEM X.509', { cause: err });
  }
  if (!ca.ca) throw new TlsMaterialError('the CA certificate is not a CA (basicConstraints cA=false)');
  if (!leaf.checkIssued(ca) || !leaf.verify(ca.publicKey)) {
    throw new TlsMaterialError('the serving certificate is not signed by the CA it is served with');
  }
  let keyMatches: boolean;
  try {
    keyMatches = leaf.checkPrivateKey(createPrivateKey(material.keyPem));
  } catch (err) {
    throw new TlsMaterialError('the serving key does not parse as a PEM private key', { cause: err });
  }
  if (!keyMatches) throw new TlsMaterialError('the serving key does not belong to the serving certificate');
  const validFrom = new Date(leaf.validFrom);
  const validTo = new Date(leaf.validTo);
  if (now.getTime() >= validTo.getTime()) {
    throw new TlsMaterialError(`the serving certificate expired at ${validTo.toISOString()}`);
  }
  return { ...material, validFrom, validTo, fingerprint: leaf.fingerprint256 };
}

/**
 * Checks that `certPem` is a CA certificate and `keyPem` its private key, with node:crypto only. Run before
 * node-forge ever sees a CA read back from disk or from the Secret (issue.ts signs with it): forge's known
 * CVEs are in parsing, and a key that does not match would sign certificates nobody can verify.
 */
export function checkCaPair(pair: { readonly certPem: string; readonly keyPem: string }): X509Certificate {
  let cert: X509Certificate;
  try {
    cert = new X509Certificate(pair.certPem);
  } catch (err) {
    throw new TlsMaterialError('the CA certificate does not parse as PEM X.509', { cause: err });
  }
  if (!cert.ca) throw new TlsMaterialError('the CA certificate is not a CA (basicConstraints cA=false)');
  let matches: boolean;
  try {
    matches = cert.checkPrivateKey(createPrivateKey(pair.keyPem));
  } catch (err) {
    throw new TlsMaterialError('the CA key does not parse as a PEM private key', { cause: err });
  }
  if (!matches) throw new TlsMaterialError('the CA key does not belong to the CA certificate');
  return cert;
}

/** Validity window of a certificate in PEM, via node:crypto. */
export function certWindow(certPem: string): { validFrom: Date; validTo: Date } {
  const cert = new X509Certificate(certPem);
  return { validFrom: new Date(cert.validFrom), validTo: new Date(cert.validTo) };
}
