// The self-signed root skein-cp generates when the user brings no CA: ECDSA P-256, ten years, pathLen 0
// (it signs the workload leaves itself). The subject carries the creation date and a random tag, so an
// old and a new root during a rotation never share a name (OpenSSL picks issuers by name first).
import { randomBytes } from 'node:crypto';
import { CLOCK_SKEW_MS, P256, randomSerialHex, subtle, x509 } from './x509.js';

export const ROOT_VALIDITY_DAYS = 3650;
const DAY_MS = 24 * 3600 * 1000;

export interface GeneratedCa {
  readonly certPem: string;
  /** PKCS#8 PEM. */
  readonly keyPem: string;
}

function pem(label: string, der: ArrayBuffer): string {
  const b64 = Buffer.from(der).toString('base64').replace(/(.{64})/g, '$1\n').replace(/\n$/, '');
  return `-----BEGIN ${label}-----\n${b64}\n-----END ${label}-----\n`;
}

export async function generateRootCa(trustDomain: string, now: Date = new Date()): Promise<GeneratedCa> {
  const keys = await subtle.generateKey(P256, true, ['sign', 'verify']);
  const tag = `${now.toISOString().slice(0, 10)} ${randomBytes(4).toString('hex')}`;
  // A JSON name, not a string: a trust domain is never parsed as DN syntax.
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: randomSerialHex(),
    name: [{ CN: [`skein mesh CA ${tag}`] }, { O: ['skein'] }, { OU: [trustDomain] }],
    keys,
    signingAlgorithm: P256,
    notBefore: new Date(now.getTime() - CLOCK_SKEW_MS),
    notAfter: new Date(now.getTime() + ROOT_VALIDITY_DAYS * DAY_MS),
    extensions: [
      new x509.BasicConstraintsExtension(true, 0, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
    ],
  });
  const pkcs8 = await subtle.exportKey('pkcs8', keys.privateKey);
  return { certPem: cert.toString('pem') + '\n', keyPem: pem('PRIVATE KEY', pkcs8) };
}
