// Issuing the control plane's own CA and the webhook/gRPC serving certificate.
//
// Why node-forge: Node 20's node:crypto can parse and verify X.509 (X509Certificate) but cannot build or
// sign a certificate, and node-forge is already in Skein's stack (no extra dependency). forge only ever
// *writes* certificates here, from values we choose; the one thing it parses is our own CA pair read back
// from the state directory or the Secret, and only after node:crypto has checked it (material.ts
// checkCaPair), since forge's CVEs are in parsing (ASN.1 desync, lenient PKCS#1 checks). Keys come from node:crypto (native, fast), and every
// issued certificate is checked with node:crypto's X509Certificate (material.ts) before use; TLS
// handshakes on the hot path are node:tls. forge has no ECDSA, so keys are RSA-2048.
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import forge from 'node-forge';
import { CONTROL_PLANE_NAMESPACE, CONTROL_PLANE_SERVICE } from '../contract.js';

export interface KeyPairPem {
  readonly certPem: string;
  readonly keyPem: string;
}

/** DNS names on the serving certificate: the in-cluster Service names plus loopback for local mode. */
export function servingDnsNames(namespace = CONTROL_PLANE_NAMESPACE): string[] {
  const svc = CONTROL_PLANE_SERVICE;
  return [svc, `${svc}.${namespace}`, `${svc}.${namespace}.svc`, `${svc}.${namespace}.svc.cluster.local`, 'localhost'];
}
export const SERVING_IPS: readonly string[] = ['127.0.0.1'];

export const CA_VALIDITY_DAYS = 3650;
export const SERVING_VALIDITY_DAYS = 365;
const DAY_MS = 24 * 3600 * 1000;
/** Backdate notBefore so a replica with a slightly slow clock accepts a fresh certificate. */
const CLOCK_SKEW_MS = 5 * 60 * 1000;

function newKeyPair(): { privateKey: forge.pki.rsa.PrivateKey; publicKey: forge.pki.rsa.PublicKey; keyPem: string } {
  const { privateKey: keyPem } = generateKeyPairSync('rsa', {
    modulusLength: 2048,
    publicExponent: 0x10001,
    privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
    publicKeyEncoding: { type: 'spki', format: 'pem' },
  });
  const privateKey = forge.pki.privateKeyFromPem(keyPem) as forge.pki.rsa.PrivateKey;
  const publicKey = forge.pki.rsa.setPublicKey(privateKey.n, privateKey.e);
  return { privateKey, publicKey, keyPem };
}

function serialHex(): string {
  // 16 random bytes, top bit cleared so the DER INTEGER stays positive (RFC 5280 §4.1.2.2).
  const bytes = randomBytes(16);
  bytes[0] = (bytes[0] ?? 0) & 0x7f;
  return bytes.toString('hex');
}

function validity(cert: forge.pki.Certificate, now: Date, days: number): void {
  cert.validity.notBefore = new Date(now.getTime() - CLOCK_SKEW_MS);
  cert.validity.notAfter = new Date(now.getTime() + days * DAY_MS);
}

/** A new self-signed CA, used only to sign serving certificates of skein-cp. */
export function createCa(now: Date = new Date(), days = CA_VALIDITY_DAYS): KeyPairPem {
  const { privateKey, publicKey, keyPem } = newKeyPair();
  const cert = forge.pki.createCertificate();
  cert.publicKey = publicKey;
  cert.serialNumber = serialHex();
  validity(cert, now, days);
  const subject = [{ name: 'commonName', value: 'skein-cp webhook CA' }, { name: 'organizationName', value: 'skein' }];
  cert.setSubject(subject);
  cert.setIssuer(subject);
  cert.setExtensions([
    { name: 'basicConstraints', cA: true, pathLenConstraint: 0, critical: true },
    { name: 'keyUsage', keyCertSign: true, cRLSign: true, digitalSignature: true, critical: true },
    { name: 'subjectKeyIdentifier' },
  ]);
  cert.sign(privateKey, forge.md.sha256.create());
  return { certPem: forge.pki.certificateToPem(cert), keyPem };
}

/** A serving certificate for skein-cp's names, signed by `ca`. */
export function issueServing(ca: KeyPairPem, namespace = CONTROL_PLANE_NAMESPACE, now: Date = new Date(), days = SERVING_VALIDITY_DAYS): KeyPairPem {
  const caCert = forge.pki.certificateFromPem(ca.certPem);
  const caKey = forge.pki.privateKeyFromPem(ca.keyPem);
  const { publicKey, keyPem } = newKeyPair();
  const cert = forge.pki.createCertificate();
  cert.publicKey = publicKey;
  cert.serialNumber = serialHex();
  validity(cert, now, days);
  cert.setSubject([{ name: 'commonName', value: `${CONTROL_PLANE_SERVICE}.${namespace}.svc` }]);
  cert.setIssuer(caCert.subject.attributes);
  cert.setExtensions([
    { name: 'basicConstraints', cA: false, critical: true },
    { name: 'keyUsage', digitalSignature: true, keyEncipherment: true, critical: true },
    { name: 'extKeyUsage', serverAuth: true },
    {
      name: 'subjectAltName',
      altNames: [
        ...servingDnsNames(namespace).map((value) => ({ type: 2, value })),
        ...SERVING_IPS.map((ip) => ({ type: 7, ip })),
      ],
    },
    { name: 'authorityKeyIdentifier', keyIdentifier: caCert.generateSubjectKeyIdentifier().getBytes() },
  ]);
  cert.sign(caKey, forge.md.sha256.create());
  return { certPem: forge.pki.certificateToPem(cert), keyPem };
}
