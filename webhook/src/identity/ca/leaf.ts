// The workload leaf profile (the same for every sidecar): the CSR's P-256 key, an empty subject, the SPIFFE
// ID as the one and only SAN (a URI, critical because the subject is empty, RFC 5280 §4.2.1.6), EKU
// serverAuth + clientAuth (each sidecar is both), KU digitalSignature + keyAgreement, CA:FALSE, a random
// serial, notBefore backdated for clock skew, notAfter = now + ttl but never past the CA's own notAfter.
import type { WorkloadIdentity } from '../types.js';
import type { CaMaterial } from './material.js';
import type { VerifiedCsr } from './csr.js';
import { CLOCK_SKEW_MS, randomSerialHex, x509 } from './x509.js';

export interface IssuedCertificate {
  /** Leaf first, then the intermediates (none when a root signs). */
  readonly certChainPem: string[];
  readonly expiresAt: Date;
  /** Hex. */
  readonly serial: string;
  readonly spiffeId: string;
}

export async function issueLeaf(ca: CaMaterial, csr: VerifiedCsr, identity: WorkloadIdentity, ttlSeconds: number, now: Date): Promise<IssuedCertificate> {
  const wanted = new Date(now.getTime() + ttlSeconds * 1000);
  const notAfter = wanted < ca.notAfter ? wanted : ca.notAfter;
  const serial = randomSerialHex();
  const spki = csr.publicKey.export({ type: 'spki', format: 'der' });
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: serial,
    subject: '',
    issuer: ca.signerName,
    notBefore: new Date(now.getTime() - CLOCK_SKEW_MS),
    notAfter,
    publicKey: spki,
    signingKey: ca.signingKey,
    signingAlgorithm: ca.signingAlgorithm,
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyAgreement, true),
      new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth, x509.ExtendedKeyUsage.clientAuth], false),
      new x509.SubjectAlternativeNameExtension([{ type: 'url', value: identity.spiffeId }], true),
      new x509.AuthorityKeyIdentifierExtension(ca.signerKeyId, false),
      await x509.SubjectKeyIdentifierExtension.create(spki, false),
    ],
  });
  return {
    certChainPem: [cert.toString('pem') + '\n', ...ca.chainPem],
    expiresAt: notAfter,
    serial,
    spiffeId: identity.spiffeId,
  };
}
