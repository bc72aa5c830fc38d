// The one place @peculiar/x509 is loaded: it builds certificates (node:crypto cannot) and is told to use
// Node's own WebCrypto, so every key operation and signature is OpenSSL's. It never verifies anything a
// caller sent: CSR signatures are checked with node:crypto (csr.ts).
import { webcrypto } from 'node:crypto';

export type CryptoKey = webcrypto.CryptoKey;
export type SigningAlgorithm = webcrypto.Algorithm | webcrypto.EcdsaParams;
import * as x509 from '@peculiar/x509';

x509.cryptoProvider.set(webcrypto as unknown as Parameters<typeof x509.cryptoProvider.set>[0]);

export { x509, webcrypto };
export const subtle = webcrypto.subtle;

/** ECDSA P-256 with SHA-256: the mesh's leaf and generated-root algorithm. */
export const P256: webcrypto.EcKeyGenParams & webcrypto.EcdsaParams = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' };

/** A random positive serial number (16 bytes, top bit clear), hex: RFC 5280 §4.1.2.2 allows 20 octets. */
export function randomSerialHex(): string {
  const b = webcrypto.getRandomValues(new Uint8Array(16));
  b[0] = (b[0] ?? 0) & 0x7f | 0x01; // positive and no leading zero octet to strip
  return Buffer.from(b).toString('hex');
}

/** Backdating of notBefore so a peer whose clock is a little behind accepts a fresh certificate. */
export const CLOCK_SKEW_MS = 60_000;

/** The PEM certificate blocks of a text, in order (parsing them is the caller's job, with node:crypto). */
export function splitPemCertificates(text: string): string[] {
  return text.match(/-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/g) ?? [];
}
