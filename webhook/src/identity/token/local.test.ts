import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPairSync, sign, type KeyObject } from 'node:crypto';
import { mkdtemp, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CertifyRefusal, type RefusalReason } from '../errors.js';
import type { PodRecord } from '../types.js';
import { localTokenVerifier } from './local.js';
import { hs256WithPublicKey, localClaims, mintLocal, unsignedToken, type LocalMint } from './testing/local-tokens.js';

const NS = 'shop';
const SA = 'orders';
const POD = { name: 'orders-7d9f-abcde', uid: '0b6e4c1e-2f7a-4d25-9b41-6a1f5e7c9d10' };

function rsa(bits = 2048): { privateKey: KeyObject; publicPem: string } {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: bits });
  return { privateKey, publicPem: publicKey.export({ type: 'spki', format: 'pem' }) as string };
}

const refusedWith = (reason: RefusalReason) => (err: unknown): boolean => {
  assert.ok(err instanceof CertifyRefusal, `expected a CertifyRefusal, got ${String(err)}`);
  assert.equal(err.reason, reason, err.message);
  assert.ok(err.message.length > 20);
  return true;
};

describe('localTokenVerifier', () => {
  let dir: string;
  let keyPath: string;
  let key: ReturnType<typeof rsa>;
  const pods = new Map<string, PodRecord>();
  const lookup = async (ns: string, name: string): Promise<PodRecord | undefined> => pods.get(`${ns}/${name}`);
  let verifier: ReturnType<typeof localTokenVerifier>;
  const good = (over: Partial<LocalMint> = {}): LocalMint => ({ namespace: NS, serviceAccount: SA, pod: POD, ...over });

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'skein-token-'));
    keyPath = join(dir, 'sa-pub.pem');
    key = rsa();
    await writeFile(keyPath, key.publicPem);
    pods.set(`${NS}/${POD.name}`, { uid: POD.uid, podIPs: ['10.0.0.5'], serviceAccount: SA });
    verifier = localTokenVerifier({ publicKeyPath: keyPath, trustDomain: 'cluster.local', pods: lookup });
  });
  after(async () => rm(dir, { recursive: true, force: true }));

  it('accepts a token as skein-local mints it; the identity comes from its claims', async () => {
    const id = await verifier.verify(mintLocal(key.privateKey, good()));
    assert.deepEqual(id, { namespace: NS, serviceAccount: SA, spiffeId: 'spiffe://cluster.local/ns/shop/sa/orders', pod: POD });
  });

  it('accepts aud as a single string and a token expired less than the 60 s skew ago', async () => {
    await verifier.verify(mintLocal(key.privateKey, good({ payload: { aud: 'skein-cp' } })));
    await verifier.verify(mintLocal(key.privateKey, good({ now: Date.now() - 3630_000 })));
  });

  it('refuses an empty or oversized token before parsing it', async () => {
    await assert.rejects(verifier.verify(''), refusedWith('no_token'));
    await assert.rejects(verifier.verify('a'.repeat(16 * 1024 + 1)), refusedWith('oversized'));
  });

  it('refuses alg none, HS256 key confusion and every other algorithm', async () => {
    await assert.rejects(verifier.verify(unsignedToken(good())), refusedWith('bad_token'));
    await assert.rejects(verifier.verify(hs256WithPublicKey(key.publicPem, good())), refusedWith('bad_token'));
    for (const alg of ['RS384', 'RS512', 'PS256', 'ES256', 'rs256', undefined]) {
      await assert.rejects(verifier.verify(mintLocal(key.privateKey, good({ header: { alg } }))), refusedWith('bad_token'), String(alg));
    }
  });

  it('refuses a token signed by another key, a tampered payload, and a crit header', async () => {
    await assert.rejects(verifier.verify(mintLocal(rsa().privateKey, good())), refusedWith('bad_token'));
    const [h, , s] = mintLocal(key.privateKey, good()).split('.');
    const otherPayload = Buffer.from(JSON.stringify(localClaims(good({ serviceAccount: 'admin' })).payload)).toString('base64url');
    await assert.rejects(verifier.verify(`${h}.${otherPayload}.${s}`), refusedWith('bad_token'));
    await assert.rejects(verifier.verify(mintLocal(key.privateKey, good({ header: { crit: ['exp'] } }))), refusedWith('bad_token'));
  });

  it('refuses malformed compact forms', async () => {
    const t = mintLocal(key.privateKey, good());
    for (const bad of [t.split('.').slice(0, 2).join('.'), `${t}.x`, `${t}=`, t.replace('.', '.+'), `{"alg":"RS256"}.e30.x`]) {
      await assert.rejects(verifier.verify(bad), refusedWith('bad_token'), bad.slice(0, 30));
    }
    // A header that is valid base64url but not a JSON object.
    const input = `${Buffer.from('[1]').toString('base64url')}.${Buffer.from('{}').toString('base64url')}`;
    await assert.rejects(verifier.verify(`${input}.${sign('sha256', Buffer.from(input), key.privateKey).toString('base64url')}`), refusedWith('bad_token'));
  });

  it('crafted JSON (deep nesting, __proto__ keys) is refused without effect', async () => {
    const signed = (header: string, payload: string): string => {
      const input = `${Buffer.from(header).toString('base64url')}.${Buffer.from(payload).toString('base64url')}`;
      return `${input}.${sign('sha256', Buffer.from(input), key.privateKey).toString('base64url')}`;
    };
    await assert.rejects(verifier.verify(signed(`${'['.repeat(5000)}${']'.repeat(5000)}`, '{}')), refusedWith('bad_token'));
    await assert.rejects(verifier.verify(signed('{"__proto__":{"alg":"RS256"}}', '{}')), refusedWith('bad_token'));
    const claims = localClaims(good()).payload;
    const polluted = JSON.stringify({ ...claims, iss: undefined, aud: undefined }).replace(/^\{/, '{"__proto__":{"iss":"skein-local","aud":["skein-cp"]},');
    await assert.rejects(verifier.verify(signed('{"alg":"RS256"}', polluted)), refusedWith('bad_token'));
    assert.equal(({} as Record<string, unknown>).iss, undefined, 'Object.prototype untouched');
  });

  it('refuses another issuer and another audience', async () => {
    await assert.rejects(verifier.verify(mintLocal(key.privateKey, good({ payload: { iss: 'https://kubernetes.default.svc' } }))), refusedWith('bad_token'));
    await assert.rejects(verifier.verify(mintLocal(key.privateKey, good({ audiences: ['https://kubernetes.default.svc'] }))), refusedWith('wrong_audience'));
    await assert.rejects(verifier.verify(mintLocal(key.privateKey, good({ payload: { aud: undefined } }))), refusedWith('wrong_audience'));
  });

  it('refuses an expired token, one not yet valid, and one without exp', async () => {
    await assert.rejects(verifier.verify(mintLocal(key.privateKey, good({ now: Date.now() - 3661_000 }))), refusedWith('expired'));
    await assert.rejects(verifier.verify(mintLocal(key.privateKey, good({ now: Date.now() + 120_000 }))), refusedWith('bad_token'));
    await assert.rejects(verifier.verify(mintLocal(key.privateKey, good({ payload: { exp: undefined } }))), refusedWith('bad_token'));
    await assert.rejects(verifier.verify(mintLocal(key.privateKey, good({ payload: { exp: '9999999999' } }))), refusedWith('bad_token'));
  });

  it('refuses a subject that is not a service account, or that disagrees with the kubernetes.io claims', async () => {
    await assert.rejects(verifier.verify(mintLocal(key.privateKey, good({ payload: { sub: 'admin' } }))), refusedWith('not_service_account'));
    await assert.rejects(verifier.verify(mintLocal(key.privateKey, good({ payload: { sub: 'system:serviceaccount:shop:orders:x' } }))), refusedWith('not_service_account'));
    await assert.rejects(verifier.verify(mintLocal(key.privateKey, good({ payload: { sub: 'system:serviceaccount:shop:payments' } }))), refusedWith('bad_token'));
    await assert.rejects(verifier.verify(mintLocal(key.privateKey, good({ payload: { 'kubernetes.io': undefined } }))), refusedWith('not_service_account'));
  });

  it('refuses names that would make a forged SPIFFE path', async () => {
    for (const [ns, sa] of [['a%2F..', 'orders'], ['Shop', 'orders'], ['shop', '../admin'], ['shop', 'a..b']] as const) {
      const t = mintLocal(key.privateKey, { namespace: ns, serviceAccount: sa, pod: POD });
      await assert.rejects(verifier.verify(t), refusedWith('not_service_account'), `${ns}/${sa}`);
    }
  });

  it('refuses a token whose pod is gone, was re-created, or runs as another service account', async () => {
    await assert.rejects(verifier.verify(mintLocal(key.privateKey, good({ pod: { name: 'gone', uid: POD.uid } }))), refusedWith('unknown_pod'));
    await assert.rejects(verifier.verify(mintLocal(key.privateKey, good({ pod: { name: POD.name, uid: 'another-uid' } }))), refusedWith('replaced_pod'));
    pods.set(`${NS}/other`, { uid: 'u-other', podIPs: [], serviceAccount: 'default' });
    await assert.rejects(verifier.verify(mintLocal(key.privateKey, good({ pod: { name: 'other', uid: 'u-other' } }))), refusedWith('not_service_account'));
    await assert.rejects(verifier.verify(mintLocal(key.privateKey, good({ payload: { 'kubernetes.io': { namespace: NS, serviceaccount: { name: SA }, pod: { name: POD.name } } } }))), refusedWith('bad_token'));
  });

  it('follows a new key file at once (atomic replace), and refuses tokens of the old key', async () => {
    const next = rsa();
    const oldToken = mintLocal(key.privateKey, good());
    await verifier.verify(oldToken);
    await writeFile(`${keyPath}.tmp`, next.publicPem);
    await rename(`${keyPath}.tmp`, keyPath);
    await assert.rejects(verifier.verify(oldToken), refusedWith('bad_token'));
    await verifier.verify(mintLocal(next.privateKey, good()));
    key = next;
  });

  it('refuses to verify with a key that is not RSA-2048+, and says which file is missing', async () => {
    const small = join(dir, 'small.pem');
    const weak = rsa(1024);
    await writeFile(small, weak.publicPem);
    const v = localTokenVerifier({ publicKeyPath: small, trustDomain: 'cluster.local', pods: lookup });
    await assert.rejects(v.verify(mintLocal(weak.privateKey, good())), (err: Error) => !(err instanceof CertifyRefusal) && /2048/.test(err.message));
    const missing = localTokenVerifier({ publicKeyPath: join(dir, 'nope.pem'), trustDomain: 'cluster.local', pods: lookup });
    await assert.rejects(missing.verify(mintLocal(key.privateKey, good())), (err: Error) => !(err instanceof CertifyRefusal) && err.message.includes('nope.pem'));
  });

  it('accepts an unbound token (no pod claim) as the service account alone', async () => {
    const id = await verifier.verify(mintLocal(key.privateKey, good({ pod: undefined })));
    assert.equal(id.pod, undefined);
    assert.equal(id.spiffeId, 'spiffe://cluster.local/ns/shop/sa/orders');
  });
});
