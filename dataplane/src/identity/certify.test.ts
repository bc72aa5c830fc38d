// What the sidecar accepts from Certify before it replaces its certificate: the leaf must be for our key,
// name exactly one SPIFFE URI, agree with the response's spiffe_id, be valid now and chain to the trust
// anchors. Anything else is refused as `invalid` (and the old certificate stays: renew.ts).
import assert from 'node:assert/strict';
import { createPublicKey, webcrypto, type KeyObject } from 'node:crypto';
import { before, describe, it } from 'node:test';
import { createCa, signLeaf, type TestCa } from '../discovery/testing/fake-cp.js';
import { CertifyError, newWorkloadKey, parseIssued, splitPem } from './certify.js';

const ID = 'spiffe://cluster.local/ns/shop/sa/web';
const hour = (n: number): Date => new Date(Date.now() + n * 3600_000);

async function publicCryptoKey(key: KeyObject): Promise<unknown> {
  const spki = createPublicKey(key).export({ type: 'spki', format: 'der' });
  return webcrypto.subtle.importKey('spki', spki, { name: 'ECDSA', namedCurve: 'P-256' }, true, ['verify']);
}

describe('parseIssued', () => {
  let ca: TestCa;
  let other: TestCa;
  let key: KeyObject;
  let good: string;
  before(async () => {
    ca = await createCa('mesh root');
    other = await createCa('another root');
    key = await newWorkloadKey();
    good = await signLeaf(ca, await publicCryptoKey(key), { uris: [ID], notAfter: hour(1) });
  });
  const response = (certChainPem: string[], trustAnchorsPem = [ca.certPem], spiffeId = ID) =>
    ({ certChainPem, trustAnchorsPem, spiffeId, expiresAtUnix: 0 });
  const refused = (fn: () => unknown, pattern: RegExp): void =>
    assert.throws(fn, (err: unknown) => err instanceof CertifyError && err.result === 'invalid' && pattern.test(err.message));

  it('takes a good leaf: identity, validity, serial, anchors and our key', () => {
    const cert = parseIssued(response([good]), key);
    assert.equal(cert.spiffeId, ID);
    assert.equal(cert.key, key);
    assert.ok(cert.notAfter > new Date() && cert.notBefore < new Date());
    assert.match(cert.serial, /^[0-9A-F]+$/);
    assert.equal(splitPem(cert.certChainPem).length, 1);
    assert.equal(cert.trustAnchorsPem.length, 1);
    assert.equal(parseIssued(response([good], [ca.certPem], ''), key).spiffeId, ID, 'an empty spiffe_id: the leaf says it');
  });

  it('refuses a leaf for another key', async () => {
    const stranger = await newWorkloadKey();
    refused(() => parseIssued(response([good]), stranger), /not for our key/);
  });

  it('refuses no SPIFFE URI, two URIs, a non-SPIFFE URI and a spiffe_id that disagrees', async () => {
    const pub = await publicCryptoKey(key);
    for (const uris of [[], [ID, 'spiffe://cluster.local/ns/shop/sa/other'], ['https://example.com/x']]) {
      const pem = await signLeaf(ca, pub, { uris, dns: ['web.shop'], notAfter: hour(1) });
      refused(() => parseIssued(response([pem]), key), /one SPIFFE URI SAN/);
    }
    refused(() => parseIssued(response([good], [ca.certPem], 'spiffe://cluster.local/ns/shop/sa/admin'), key), /says .* but the leaf names/);
  });

  it('refuses an expired leaf, a chain to another CA, no trust anchor and an empty answer', async () => {
    const pub = await publicCryptoKey(key);
    const expired = await signLeaf(ca, pub, { uris: [ID], notBefore: hour(-2), notAfter: hour(-1) });
    refused(() => parseIssued(response([expired]), key), /expired/);
    const foreign = await signLeaf(other, pub, { uris: [ID], notAfter: hour(1) });
    refused(() => parseIssued(response([foreign]), key), /does not lead to a trust anchor/);
    refused(() => parseIssued(response([good], []), key), /no trust anchor/);
    refused(() => parseIssued(response([]), key), /no certificate/);
    refused(() => parseIssued(response(['-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n']), key), /does not parse/);
  });
});
