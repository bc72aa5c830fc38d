// The in-memory API server's TokenReview, over raw HTTPS: the answers kube-apiserver gives
// (pkg/registry/authentication/tokenreview/storage.go, pkg/serviceaccount), so that skein-cp's
// TokenReview client is tested against the real shapes.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { KINDS } from './kinds.js';
import { raw } from './raw-client.js';
import { FakeApiServer } from './server.js';
import { API_AUDIENCES } from './service-account-tokens.js';

const PATH = '/apis/authentication.k8s.io/v1/tokenreviews';
const review = (token: string, audiences?: string[]) => ({
  apiVersion: 'authentication.k8s.io/v1', kind: 'TokenReview', spec: { token, ...(audiences ? { audiences } : {}) },
});

describe('in-memory API server: TokenReview', () => {
  let api: FakeApiServer;
  let podUid: string;
  before(async () => {
    api = await FakeApiServer.start({ namespaces: ['default', 'shop'] });
    podUid = api.tokens.addPod('shop', 'orders-1', 'orders');
  });
  after(async () => api.close());

  it('201 Created: authenticated, the service account user with the bound pod in extra, the audience intersection; spec echoed', async () => {
    const token = api.tokens.mint({ namespace: 'shop', serviceAccount: 'orders', pod: { name: 'orders-1', uid: podUid }, audiences: ['skein-cp', 'other'] });
    const r = await raw(api, 'POST', PATH, review(token, ['skein-cp']));
    assert.equal(r.status, 201);
    assert.equal(r.body.kind, 'TokenReview');
    assert.deepEqual((r.body.spec as { token: string }).token, token);
    const status = r.body.status as { authenticated: boolean; audiences: string[]; user: { username: string; groups: string[]; extra: Record<string, string[]> }; error?: string };
    assert.equal(status.authenticated, true);
    assert.deepEqual(status.audiences, ['skein-cp']);
    assert.equal(status.user.username, 'system:serviceaccount:shop:orders');
    assert.deepEqual(status.user.groups, ['system:serviceaccounts', 'system:serviceaccounts:shop', 'system:authenticated']);
    assert.deepEqual(status.user.extra['authentication.kubernetes.io/pod-name'], ['orders-1']);
    assert.deepEqual(status.user.extra['authentication.kubernetes.io/pod-uid'], [podUid]);
    assert.match(status.user.extra['authentication.kubernetes.io/credential-id']?.[0] ?? '', /^JTI=/);
    assert.equal(status.error, undefined);
  });

  it('no spec.audiences means the API audiences', async () => {
    const token = api.tokens.mint({ namespace: 'shop', serviceAccount: 'orders' });
    const r = await raw(api, 'POST', PATH, review(token));
    assert.deepEqual((r.body.status as { audiences: string[] }).audiences, [...API_AUDIENCES]);
  });

  it('not authenticated: `authenticated` omitted, user {}, the authenticator\'s error text', async () => {
    const cases: Array<[string, string | RegExp]> = [
      [api.tokens.mint({ namespace: 'shop', serviceAccount: 'orders', audiences: ['vault'] }), 'token audiences ["vault"] is invalid for the target audiences ["skein-cp"]'],
      [api.tokens.mint({ namespace: 'shop', serviceAccount: 'orders', audiences: ['skein-cp'], now: Date.now() - 3700_000 }), 'service account token has expired'],
      ['not-a-jwt', 'invalid bearer token'],
      [api.tokens.signed({ alg: 'none' }, { iss: 'https://kubernetes.default.svc.cluster.local' }), 'invalid bearer token'],
    ];
    const forged = api.tokens.mint({ namespace: 'shop', serviceAccount: 'orders', audiences: ['skein-cp'] }).split('.');
    cases.push([`${forged[0]}.${Buffer.from(JSON.stringify({ iss: 'https://kubernetes.default.svc.cluster.local', aud: ['skein-cp'] })).toString('base64url')}.${forged[2]}`, /error in cryptographic primitive/]);
    for (const [token, error] of cases) {
      const r = await raw(api, 'POST', PATH, review(token, ['skein-cp']));
      assert.equal(r.status, 201);
      const status = r.body.status as Record<string, unknown>;
      assert.equal('authenticated' in status, false);
      assert.deepEqual(status.user, {});
      if (typeof error === 'string') assert.equal(status.error, error);
      else assert.match(String(status.error), error);
    }
  });

  it('a bound pod deleted or re-created invalidates its token', async () => {
    const uid = api.tokens.addPod('shop', 'orders-2', 'orders');
    const token = api.tokens.mint({ namespace: 'shop', serviceAccount: 'orders', pod: { name: 'orders-2', uid }, audiences: ['skein-cp'] });
    const newUid = api.tokens.addPod('shop', 'orders-2', 'orders');
    let r = await raw(api, 'POST', PATH, review(token, ['skein-cp']));
    assert.equal((r.body.status as { error: string }).error, `pod UID (${newUid}) does not match service account pod ref claim (${uid})`);
    api.tokens.deletePod('shop', 'orders-2');
    r = await raw(api, 'POST', PATH, review(token, ['skein-cp']));
    assert.equal((r.body.status as { error: string }).error, 'service account token has been invalidated');
  });

  it('a pod seeded in the store is what a bound token is checked against', async () => {
    const pods = KINDS.find((k) => k.resource === 'pods');
    assert.ok(pods, 'the store serves Pods');
    const seeded = api.seed(pods, {
      apiVersion: 'v1', kind: 'Pod', metadata: { name: 'cart-1', namespace: 'shop' },
      spec: { serviceAccountName: 'cart', containers: [{ name: 'app', image: 'cart:1' }] },
    });
    const uid = String((seeded.metadata as { uid: string }).uid);
    const token = api.tokens.mint({ namespace: 'shop', serviceAccount: 'cart', pod: { name: 'cart-1', uid }, audiences: ['skein-cp'] });
    let r = await raw(api, 'POST', PATH, review(token, ['skein-cp']));
    assert.equal((r.body.status as { authenticated: boolean }).authenticated, true);
    api.store.delete(pods, 'shop', 'cart-1');
    r = await raw(api, 'POST', PATH, review(token, ['skein-cp']));
    assert.equal((r.body.status as { error: string }).error, 'service account token has been invalidated');
  });

  it('a static (token file) user authenticates only for the API audiences', async () => {
    api.tokens.addStaticToken('static-admin-token', 'admin');
    let r = await raw(api, 'POST', PATH, review('static-admin-token', ['skein-cp']));
    assert.equal((r.body.status as { error: string }).error, 'invalid bearer token');
    r = await raw(api, 'POST', PATH, review('static-admin-token'));
    assert.equal((r.body.status as { authenticated: boolean }).authenticated, true);
  });

  it('empty token → 400; GET → 405; a namespaced or named path → 404; unknown fields → a warning', async () => {
    let r = await raw(api, 'POST', PATH, review(''));
    assert.equal(r.status, 400);
    assert.equal(r.body.message, 'token is required for TokenReview in authentication');
    r = await raw(api, 'GET', PATH);
    assert.equal(r.status, 405);
    r = await raw(api, 'POST', '/apis/authentication.k8s.io/v1/namespaces/shop/tokenreviews', review('x'));
    assert.equal(r.status, 404);
    r = await raw(api, 'POST', `${PATH}/x`, review('x'));
    assert.equal(r.status, 404);
    r = await raw(api, 'POST', PATH, { ...review('x'), spec: { token: 'x', audience: ['skein-cp'] } });
    assert.equal(r.status, 201);
    assert.ok(r.warnings.some((w) => w.includes('unknown field \\"spec.audience\\"')), r.warnings.join());
    r = await raw(api, 'POST', PATH, { apiVersion: 'authentication.k8s.io/v1', kind: 'SubjectAccessReview', spec: { token: 'x' } });
    assert.equal(r.status, 400);
  });

  it('needs the caller to be authenticated itself', async () => {
    const r = await raw(api, 'POST', PATH, review('x'), { token: null });
    assert.equal(r.status, 401);
  });
});
