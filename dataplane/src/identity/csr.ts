// A PKCS#10 certificate signing request (RFC 2986) for an ECDSA P-256 key, encoded here in DER with
// node:crypto signing it. Why not @peculiar/x509: importing it costs ~100 ms of sidecar start (measured:
// `import('@peculiar/x509')` 100 ms) for one structure of five fields. skein-cp reads only the public key
// and checks the signature (proof of possession); the identity comes from the token, so the subject is
// empty unless a common name is given, and there are no attributes (no extension request).
import { createPublicKey, sign, type KeyObject } from 'node:crypto';

/** ecdsa-with-SHA256 (RFC 5758 §3.2): the AlgorithmIdentifier has no parameters. */
const ECDSA_WITH_SHA256 = '1.2.840.10045.4.3.2';
const COMMON_NAME = '2.5.4.3';

export interface CsrOptions {
  /** Optional subject CN (UTF8String); skein-cp ignores it. Default: an empty subject. */
  commonName?: string;
}

/** The DER of a CSR for `key` (an EC P-256 private key), signed with it (ecdsa-with-SHA256). */
export function createCsrDer(key: KeyObject, options: CsrOptions = {}): Buffer {
  if (key.type !== 'private' || key.asymmetricKeyType !== 'ec' || key.asymmetricKeyDetails?.namedCurve !== 'prime256v1') {
    throw new TypeError('createCsrDer needs an EC P-256 private key');
  }
  const spki = createPublicKey(key).export({ type: 'spki', format: 'der' }); // SubjectPublicKeyInfo
  const subject = options.commonName === undefined
    ? der(0x30)
    : der(0x30, der(0x31, der(0x30, oid(COMMON_NAME), der(0x0c, Buffer.from(options.commonName, 'utf8')))));
  const info = der(0x30,
    der(0x02, Buffer.from([0])), // version v1(0)
    subject,
    spki,
    der(0xa0)); // attributes [0] IMPLICIT SET OF: present and empty (RFC 2986 §4.1)
  const signature = sign('sha256', info, { key, dsaEncoding: 'der' });
  return der(0x30, info, der(0x30, oid(ECDSA_WITH_SHA256)), der(0x03, Buffer.from([0]), signature));
}

/** createCsrDer as PEM ("CERTIFICATE REQUEST"), what Identity.Certify takes. */
export function createCsrPem(key: KeyObject, options: CsrOptions = {}): string {
  const b64 = createCsrDer(key, options).toString('base64');
  const lines = b64.match(/.{1,64}/g) ?? [];
  return `-----BEGIN CERTIFICATE REQUEST-----\n${lines.join('\n')}\n-----END CERTIFICATE REQUEST-----\n`;
}

/** One DER TLV: `tag`, the definite length (short or long form), then the contents. */
export function der(tag: number, ...contents: Buffer[]): Buffer {
  const body = Buffer.concat(contents);
  return Buffer.concat([Buffer.from([tag]), derLength(body.length), body]);
}

export function derLength(length: number): Buffer {
  if (length < 0x80) return Buffer.from([length]);
  const bytes: number[] = [];
  for (let n = length; n > 0; n = Math.floor(n / 256)) bytes.unshift(n & 0xff);
  return Buffer.from([0x80 | bytes.length, ...bytes]);
}

/** An OBJECT IDENTIFIER from its dotted form (base-128 arcs, the first two folded into one). */
export function oid(dotted: string): Buffer {
  const arcs = dotted.split('.').map(Number);
  const [first = 0, second = 0, ...rest] = arcs;
  const out: number[] = [];
  for (const arc of [first * 40 + second, ...rest]) {
    const septets: number[] = [arc & 0x7f];
    for (let n = Math.floor(arc / 128); n > 0; n = Math.floor(n / 128)) septets.unshift((n & 0x7f) | 0x80);
    out.push(...septets);
  }
  return der(0x06, Buffer.from(out));
}
