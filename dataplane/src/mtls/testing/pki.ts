// Test PKI (not product code, not in the image): a mesh CA and leaves with whatever a test needs to be
// wrong (other CA, two URI SANs, only serverAuth, expired…), made with @peculiar/x509 on Node's webcrypto.
import { webcrypto, KeyObject, X509Certificate } from 'node:crypto';
import * as x509 from '@peculiar/x509';

x509.cryptoProvider.set(webcrypto as unknown as Parameters<typeof x509.cryptoProvider.set>[0]);
type CryptoKeyPair = webcrypto.CryptoKeyPair;

const EC = { name: 'ECDSA', namedCurve: 'P-256' } as const;
const SIGN = { name: 'ECDSA', hash: 'SHA-256' } as const;

export interface TestCa { certPem: string; keys: CryptoKeyPair; name: string }

export interface Leaf {
  certPem: string;
  key: KeyObject;
  notBefore: Date;
  notAfter: Date;
  serial: string;
}

export interface LeafOptions {
  /** URI SANs, usually exactly one SPIFFE ID. */
  uris: string[];
  /** Extended key usages; default serverAuth + clientAuth. */
  eku?: Array<'serverAuth' | 'clientAuth'>;
  notBefore?: Date;
  notAfter?: Date;
}

const EKU = { serverAuth: x509.ExtendedKeyUsage.serverAuth, clientAuth: x509.ExtendedKeyUsage.clientAuth };

export async function createTestCa(name = 'skein test root'): Promise<TestCa> {
  const keys = await webcrypto.subtle.generateKey(EC, true, ['sign', 'verify']) as CryptoKeyPair;
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: randomSerial(), name: `CN=${name}`, keys: keys as never, signingAlgorithm: SIGN,
    notBefore: new Date(Date.now() - 3600_000), notAfter: new Date(Date.now() + 86400_000),
    extensions: [
      new x509.BasicConstraintsExtension(true, 0, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey as never),
    ],
  });
  return { certPem: cert.toString('pem'), keys, name };
}

export async function issueLeaf(ca: TestCa, options: LeafOptions): Promise<Leaf> {
  const keys = await webcrypto.subtle.generateKey(EC, true, ['sign', 'verify']) as CryptoKeyPair;
  const notBefore = options.notBefore ?? new Date(Date.now() - 60_000);
  const notAfter = options.notAfter ?? new Date(Date.now() + 3600_000);
  const caCert = new x509.X509Certificate(ca.certPem);
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: randomSerial(), subject: '', issuer: caCert.subject, notBefore, notAfter,
    signingAlgorithm: SIGN, publicKey: keys.publicKey as never, signingKey: ca.keys.privateKey as never,
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyAgreement, true),
      new x509.ExtendedKeyUsageExtension((options.eku ?? ['serverAuth', 'clientAuth']).map((u) => EKU[u])),
      new x509.SubjectAlternativeNameExtension(options.uris.map((value) => ({ type: 'url' as const, value })), true),
      await x509.AuthorityKeyIdentifierExtension.create(ca.keys.publicKey as never),
    ],
  });
  const certPem = cert.toString('pem');
  return {
    certPem, key: KeyObject.from(keys.privateKey),
    notBefore, notAfter, serial: new X509Certificate(certPem).serialNumber,
  };
}

function randomSerial(): string {
  const bytes = webcrypto.getRandomValues(new Uint8Array(16));
  bytes[0] = (bytes[0] as number) & 0x7f;
  return Buffer.from(bytes).toString('hex');
}
