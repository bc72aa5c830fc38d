// Test support (not a test file): CSRs as a sidecar would send them, and user CAs as an operator would
// make them with the openssl CLI (SEC1 keys, no keyUsage unless asked, an intermediate with its root).
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { subtle, x509, type CryptoKey } from '../x509.js';

export type CsrKind = 'p256' | 'p384' | 'rsa2048';

export async function makeCsr(kind: CsrKind = 'p256', subject = 'CN=victim', sans: string[] = []): Promise<{ csrPem: string; privateKey: CryptoKey; keyPem: string }> {
  const alg = kind === 'rsa2048'
    ? { name: 'RSASSA-PKCS1-v1_5', modulusLength: 2048, publicExponent: new Uint8Array([1, 0, 1]), hash: 'SHA-256' }
    : { name: 'ECDSA', namedCurve: kind === 'p256' ? 'P-256' : 'P-384', hash: kind === 'p256' ? 'SHA-256' : 'SHA-384' };
  const keys = await subtle.generateKey(alg, true, ['sign', 'verify']) as { privateKey: CryptoKey; publicKey: CryptoKey };
  const csr = await x509.Pkcs10CertificateRequestGenerator.create({
    name: subject,
    keys,
    signingAlgorithm: alg,
    extensions: sans.length > 0 ? [new x509.SubjectAlternativeNameExtension(sans.map((v) => ({ type: 'url' as const, value: v })))] : [],
  });
  const pkcs8 = Buffer.from(await subtle.exportKey('pkcs8', keys.privateKey)).toString('base64');
  return { csrPem: csr.toString('pem'), privateKey: keys.privateKey, keyPem: `-----BEGIN PRIVATE KEY-----\n${pkcs8}\n-----END PRIVATE KEY-----\n` };
}

/** Runs openssl in a scratch directory; returns the files it was asked to read back. */
function openssl(steps: string[][], files: Record<string, string> = {}, outputs: string[] = []): Record<string, string> {
  const dir = mkdtempSync(join(tmpdir(), 'sk-ut-ca-openssl-'));
  try {
    for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
    for (const args of steps) execFileSync('openssl', args, { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });
    return Object.fromEntries(outputs.map((o) => [o, readFileSync(join(dir, o), 'utf8')]));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export interface UserCa { readonly certPem: string; readonly keyPem: string }

/** `openssl req -x509` as a how-to would write it: an EC P-256 (SEC1 key) or RSA root. */
export function opensslRoot(opts: { cn: string; key?: 'ec' | 'rsa'; days?: number; extensions?: string } = { cn: 'user root' }): UserCa {
  const genkey = opts.key === 'rsa'
    ? ['genrsa', '-out', 'ca.key', '2048']
    : ['ecparam', '-name', 'prime256v1', '-genkey', '-noout', '-out', 'ca.key'];
  const ext = opts.extensions ?? 'basicConstraints=critical,CA:TRUE\nkeyUsage=critical,keyCertSign,cRLSign\nsubjectKeyIdentifier=hash\n';
  const out = openssl([
    genkey,
    ['req', '-x509', '-new', '-key', 'ca.key', '-subj', `/O=acme/CN=${opts.cn}`, '-days', String(opts.days ?? 365), '-out', 'ca.crt', '-config', 'req.cnf', '-extensions', 'v3'],
  ], { 'req.cnf': `[req]\ndistinguished_name=dn\n[dn]\n[v3]\n${ext}` }, ['ca.crt', 'ca.key']);
  return { certPem: out['ca.crt'] ?? '', keyPem: out['ca.key'] ?? '' };
}

/** An intermediate CA signed by `parent` (EC P-256). */
export function opensslIntermediate(parent: UserCa, cn: string, extensions = 'basicConstraints=critical,CA:TRUE,pathlen:0\nkeyUsage=critical,keyCertSign,cRLSign\nsubjectKeyIdentifier=hash\nauthorityKeyIdentifier=keyid\n'): UserCa {
  const out = openssl([
    ['ecparam', '-name', 'prime256v1', '-genkey', '-noout', '-out', 'int.key'],
    ['req', '-new', '-key', 'int.key', '-subj', `/O=acme/CN=${cn}`, '-out', 'int.csr'],
    ['x509', '-req', '-in', 'int.csr', '-CA', 'parent.crt', '-CAkey', 'parent.key', '-CAcreateserial', '-days', '200', '-out', 'int.crt', '-extfile', 'ext.cnf'],
  ], { 'parent.crt': parent.certPem, 'parent.key': parent.keyPem, 'ext.cnf': extensions }, ['int.crt', 'int.key']);
  return { certPem: out['int.crt'] ?? '', keyPem: out['int.key'] ?? '' };
}
