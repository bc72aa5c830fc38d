// kubeTokenVerifier through skein-cp's real client (kube/client.ts, client-node) against the in-memory
// API server's TokenReview, with tokens its service account issuer minted.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect, type KubeIo, type TokenReviewView } from '../../kube/client.js';
import { FakeApiServer } from '../../kube/testing/apiserver/server.js';
import { CertifyRefusal, type RefusalReason } from '../errors.js';
import type { PodRecord } from '../types.js';
import { kubeTokenVerifier } from './kube.js';

const refusedWith = (reason: RefusalReason) => (err: unknown): boolean => {
  assert.ok(err instanceof CertifyRefusal, `expected a CertifyRefusal, got ${String(err)}`);
  assert.equal(err.reason, reason, err.message);
  return true;
};

describe('kubeTokenVerifier (TokenReview)', () => {
  let api: FakeApiServer;
  let io: KubeIo;
  let dir: string;
  // What skein-cp's own view of the cluster (informers) says; kept in step with the API server by the tests.
  const seen = new Map<string, PodRecord>();
  const pods = async (ns: string, name: string): Promise<PodRecord | undefined> => seen.get(`${ns}/${name}`);
  const addPod = (ns: string, name: string, sa: string): { name: string; uid: string } => {
    const uid = api.tokens.addPod(ns, name, sa);
    seen.set(`${ns}/${name}`, { uid, podIPs: ['10.1.0.9'], serviceAccount: sa });
    return { name, uid };
  };
  const mint = (ns: string, sa: string, pod: { name: string; uid: string } | undefined, extra: { audiences?: string[]; now?: number } = {}): string =>
    api.tokens.mint({ namespace: ns, serviceAccount: sa, audiences: extra.audiences ?? ['skein-cp'], ...(pod ? { pod } : {}), ...(extra.now ? { now: extra.now } : {}) });

  before(async () => {
    api = await FakeApiServer.start();
    dir = await mkdtemp(join(tmpdir(), 'sk-ut-review-'));
    io = await connect(await api.writeKubeconfig(dir));
  });
  after(async () => {
    await api.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('a bound projected token: the identity from the review, the pod checked', async () => {
    const v = kubeTokenVerifier({ io, trustDomain: 'example.org', pods });
    const pod = addPod('shop', 'orders-1', 'orders');
    const id = await v.verify(mint('shop', 'orders', pod));
    assert.deepEqual(id, { namespace: 'shop', serviceAccount: 'orders', spiffeId: 'spiffe://example.org/ns/shop/sa/orders', pod });
  });

  it('refuses no token and an oversized one without asking the API server', async () => {
    const v = kubeTokenVerifier({ io, trustDomain: 'cluster.local', pods });
    const before = api.tokens.reviews;
    await assert.rejects(v.verify(''), refusedWith('no_token'));
    await assert.rejects(v.verify('x'.repeat(16 * 1024 + 1)), refusedWith('oversized'));
    assert.equal(api.tokens.reviews, before);
  });

  it('refuses expired, wrong-audience, forged and non-service-account tokens with the API server\'s reason', async () => {
    const v = kubeTokenVerifier({ io, trustDomain: 'cluster.local', pods });
    const pod = addPod('shop', 'orders-2', 'orders');
    await assert.rejects(v.verify(mint('shop', 'orders', pod, { now: Date.now() - 3700_000 })), refusedWith('expired'));
    await assert.rejects(v.verify(mint('shop', 'orders', pod, { audiences: ['https://kubernetes.default.svc.cluster.local'] })), refusedWith('wrong_audience'));
    const [h, p] = mint('shop', 'orders', pod).split('.');
    const [, , otherSig] = mint('shop', 'orders', undefined).split('.');
    await assert.rejects(v.verify(`${h}.${p}.${otherSig}`), refusedWith('bad_token'));
    await assert.rejects(v.verify('garbage'), refusedWith('bad_token'));
    // A cluster user's bearer token (here the kubeconfig's) is no workload identity.
    api.tokens.addStaticToken(api.token, 'kubernetes-admin');
    await assert.rejects(v.verify(api.token), refusedWith('bad_token'));
  });

  it('refuses the token of a deleted or re-created pod (the API server\'s check)', async () => {
    const v = kubeTokenVerifier({ io, trustDomain: 'cluster.local', pods });
    const pod = addPod('shop', 'orders-3', 'orders');
    const token = mint('shop', 'orders', pod);
    addPod('shop', 'orders-3', 'orders'); // re-created: new UID
    await assert.rejects(v.verify(token), refusedWith('replaced_pod'));
    api.tokens.deletePod('shop', 'orders-3');
    await assert.rejects(v.verify(token), refusedWith('unknown_pod'));
  });

  it('caches a positive review (one TokenReview per token), but checks the pod on every call', async () => {
    const v = kubeTokenVerifier({ io, trustDomain: 'cluster.local', pods });
    const pod = addPod('shop', 'orders-4', 'orders');
    const token = mint('shop', 'orders', pod);
    const start = api.tokens.reviews;
    await Promise.all([v.verify(token), v.verify(token), v.verify(token)]);
    await v.verify(token);
    assert.equal(api.tokens.reviews - start, 1, 'concurrent and repeated verifications share one review');
    // skein-cp sees the pod deleted; the cached review must not let its token through.
    seen.delete('shop/orders-4');
    await assert.rejects(v.verify(token), refusedWith('unknown_pod'));
    seen.set('shop/orders-4', { uid: 'someone-else', podIPs: [], serviceAccount: 'orders' });
    await assert.rejects(v.verify(token), refusedWith('replaced_pod'));
    seen.set('shop/orders-4', { uid: pod.uid, podIPs: [], serviceAccount: 'default' });
    await assert.rejects(v.verify(token), refusedWith('not_service_account'));
  });

  it('the cache does not leak across tokens: each token is reviewed and answered for itself', async () => {
    const v = kubeTokenVerifier({ io, trustDomain: 'cluster.local', pods });
    const a = addPod('shop', 'orders-5', 'orders');
    const b = addPod('pay', 'billing-1', 'billing');
    const ta = mint('shop', 'orders', a);
    const tb = mint('pay', 'billing', b);
    assert.equal((await v.verify(ta)).spiffeId, 'spiffe://cluster.local/ns/shop/sa/orders');
    const start = api.tokens.reviews;
    assert.equal((await v.verify(tb)).spiffeId, 'spiffe://cluster.local/ns/pay/sa/billing');
    assert.equal(api.tokens.reviews - start, 1);
    // One character off a cached token (inside the signature) is another token: reviewed, and refused.
    const i = ta.lastIndexOf('.') + 10;
    const forged = `${ta.slice(0, i)}${ta[i] === 'A' ? 'B' : 'A'}${ta.slice(i + 1)}`;
    await assert.rejects(v.verify(forged), refusedWith('bad_token'));
    assert.equal(api.tokens.reviews - start, 2);
  });

  it('forgets a review after the cache lifetime, and never caches a refusal', async () => {
    let now = Date.now();
    const v = kubeTokenVerifier({ io, trustDomain: 'cluster.local', pods, now: () => now });
    const pod = addPod('shop', 'orders-6', 'orders');
    const token = mint('shop', 'orders', pod);
    const start = api.tokens.reviews;
    await v.verify(token);
    now += 29_000;
    await v.verify(token);
    assert.equal(api.tokens.reviews - start, 1);
    now += 2_000;
    await v.verify(token);
    assert.equal(api.tokens.reviews - start, 2, 'reviewed again after 30 s');
    api.tokens.deletePod('shop', 'orders-6');
    const other = mint('shop', 'orders', undefined, { audiences: ['vault'] });
    await assert.rejects(v.verify(other), refusedWith('wrong_audience'));
    await assert.rejects(v.verify(other), refusedWith('wrong_audience'));
    assert.equal(api.tokens.reviews - start, 4, 'a refusal is not remembered');
  });

  it('an API server that cannot be reached is skein-cp\'s failure (not a refusal of the caller)', async () => {
    const gone = await FakeApiServer.start();
    const goneIo = await connect(await gone.writeKubeconfig(dir));
    await gone.close();
    const v = kubeTokenVerifier({ io: goneIo, trustDomain: 'cluster.local', pods });
    await assert.rejects(v.verify(mint('shop', 'orders', undefined)), (err: Error) => !(err instanceof CertifyRefusal) && /TokenReview failed/.test(err.message));
  });
});

// What only an audience-aware non-service-account authenticator (OIDC, webhook) answers, which the
// in-memory API server does not run: the interpretation of such answers, on fixed review statuses.
describe('kubeTokenVerifier: reading review statuses the in-memory server cannot produce', () => {
  const statusIo = (s: Partial<TokenReviewView>): Pick<KubeIo, 'createTokenReview'> => ({
    createTokenReview: async () => ({ authenticated: true, audiences: ['skein-cp'], error: undefined, username: undefined, extra: {}, ...s }),
  });
  const pods = async (): Promise<PodRecord | undefined> => ({ uid: 'u1', podIPs: [], serviceAccount: 'orders' });

  it('a user that is not a service account → not_service_account', async () => {
    const v = kubeTokenVerifier({ io: statusIo({ username: 'alice@example.com' }), trustDomain: 'cluster.local', pods });
    await assert.rejects(v.verify('t1'), refusedWith('not_service_account'));
  });

  it('an authenticator that ignored the audience (status.audiences without skein-cp) → wrong_audience', async () => {
    const v = kubeTokenVerifier({ io: statusIo({ username: 'system:serviceaccount:shop:orders', audiences: [] }), trustDomain: 'cluster.local', pods });
    await assert.rejects(v.verify('t2'), refusedWith('wrong_audience'));
  });

  it('a pod name without its UID, or two pod names → bad_token', async () => {
    const extras: Array<Record<string, string[]>> = [{ 'authentication.kubernetes.io/pod-name': ['p'] }, { 'authentication.kubernetes.io/pod-name': ['p', 'q'], 'authentication.kubernetes.io/pod-uid': ['u1', 'u2'] }];
    for (const extra of extras) {
      const v = kubeTokenVerifier({ io: statusIo({ username: 'system:serviceaccount:shop:orders', extra }), trustDomain: 'cluster.local', pods });
      await assert.rejects(v.verify('t3'), refusedWith('bad_token'));
    }
  });
});
