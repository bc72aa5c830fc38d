// The hand-made PKCS#10 encoder, checked by two independent parsers: @peculiar/x509 (the library
// skein-cp's CA uses) and `openssl req -verify` (the real tool), plus the DER primitives on known bytes.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createPublicKey, generateKeyPairSync } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import * as x509 from '@peculiar/x509';
import { createCsrDer, createCsrPem, der, derLength, oid } from './csr.js';

const run = promisify(execFile);
const newKey = () => generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey;

describe('DER primitives', () => {
  it('encodes lengths in short and long form', () => {
    assert.deepEqual([...derLength(0)], [0]);
    assert.deepEqual([...derLength(127)], [127]);
    assert.deepEqual([...derLength(128)], [0x81, 0x80]);
    assert.deepEqual([...derLength(255)], [0x81, 0xff]);
    assert.deepEqual([...derLength(256)], [0x82, 0x01, 0x00]);
    assert.deepEqual([...derLength(70_000)], [0x83, 0x01, 0x11, 0x70]);
    const long = der(0x04, Buffer.alloc(300, 7));
    assert.deepEqual([...long.subarray(0, 4)], [0x04, 0x82, 0x01, 0x2c]);
    assert.equal(long.length, 304);
  });

  it('encodes object identifiers (multi-byte arcs included)', () => {
    assert.equal(oid('1.2.840.10045.4.3.2').toString('hex'), '06082a8648ce3d040302');
    assert.equal(oid('2.5.4.3').toString('hex'), '0603550403');
    assert.equal(oid('1.2.840.113549.1.1.11').toString('hex'), '06092a864886f70d01010b');
  });
});

describe('createCsrPem', () => {
  let dir: string;
  before(async () => { dir = await mkdtemp(join(tmpdir(), 'skein-csr-test-')); });
  after(async () => { if (dir) await rm(dir, { recursive: true, force: true }); });

  const opensslVerify = async (pem: string, name: string): Promise<string> => {
    const file = join(dir, name);
    await writeFile(file, pem);
    const { stdout, stderr } = await run('openssl', ['req', '-in', file, '-noout', '-verify', '-text']);
    return stdout + stderr;
  };

  it('is a CSR whose signature @peculiar/x509 verifies, carrying the key and ecdsa-with-SHA256', async () => {
    const key = newKey();
    const csr = new x509.Pkcs10CertificateRequest(createCsrPem(key));
    assert.equal(await csr.verify(), true);
    assert.equal(csr.subject, '');
    assert.equal(csr.attributes.length, 0);
    assert.deepEqual((csr.signatureAlgorithm as unknown as { hash: unknown }).hash, { name: 'SHA-256' });
    const spki = Buffer.from(csr.publicKey.rawData);
    assert.deepEqual(spki, createPublicKey(key).export({ type: 'spki', format: 'der' }));
  });

  it('passes openssl req -verify, empty subject and with a common name', async () => {
    const key = newKey();
    const plain = await opensslVerify(createCsrPem(key), 'plain.csr');
    assert.match(plain, /verify OK|Certificate request self-signature verify OK/);
    assert.match(plain, /ecdsa-with-SHA256/);
    assert.match(plain, /prime256v1|P-256/);
    const named = await opensslVerify(createCsrPem(key, { commonName: 'skein-dp é' }), 'named.csr');
    assert.match(named, /verify OK/);
    assert.match(named, /CN ?= ?skein-dp/);
    const parsed = new x509.Pkcs10CertificateRequest(createCsrPem(key, { commonName: 'skein-dp' }));
    assert.equal(parsed.subject, 'CN=skein-dp');
    assert.equal(await parsed.verify(), true);
  });

  it('is refused by both parsers once a byte of the signed part changes', async () => {
    const key = newKey();
    // A letter of the subject, inside CertificationRequestInfo (the signed part): still well-formed.
    const tampered = Buffer.from(createCsrDer(key, { commonName: 'skein-dp' }));
    const at = tampered.indexOf('skein-dp');
    assert.ok(at > 0);
    tampered[at] = 't'.charCodeAt(0);
    const pem = `-----BEGIN CERTIFICATE REQUEST-----\n${tampered.toString('base64').match(/.{1,64}/g)?.join('\n')}\n-----END CERTIFICATE REQUEST-----\n`;
    // OpenSSL 3.0 prints the failure but exits 0: the verdict is read from its output.
    const verdict = await opensslVerify(pem, 'tampered.csr').catch((err: Error & { stdout?: string; stderr?: string }) =>
      `${err.stdout ?? ''}${err.stderr ?? ''}`);
    assert.match(verdict, /verify failure/);
    assert.doesNotMatch(verdict, /verify OK/);
    const csr = new x509.Pkcs10CertificateRequest(pem);
    assert.equal(csr.subject, 'CN=tkein-dp');
    assert.equal(await csr.verify(), false);
  });

  it('signs each request afresh (ECDSA nonces), all verifying', async () => {
    const key = newKey();
    const a = createCsrDer(key);
    const b = createCsrDer(key);
    assert.notDeepEqual(a, b);
    for (const d of [a, b]) assert.equal(await new x509.Pkcs10CertificateRequest(d).verify(), true);
  });

  it('refuses a key that is not an EC P-256 private key', () => {
    const rsa = generateKeyPairSync('rsa', { modulusLength: 1024 }).privateKey;
    const p384 = generateKeyPairSync('ec', { namedCurve: 'P-384' }).privateKey;
    assert.throws(() => createCsrDer(rsa), /EC P-256 private key/);
    assert.throws(() => createCsrDer(p384), /EC P-256 private key/);
    assert.throws(() => createCsrDer(createPublicKey(newKey())), /EC P-256 private key/);
  });
});
