// Test support: POST /apis/authentication.k8s.io/v1/tokenreviews as kube-apiserver answers it
// (pkg/registry/authentication/tokenreview/storage.go): a create-only, cluster-scoped, never stored
// resource. The body is decoded like any create (unknown fields, kind/apiVersion checks, CreateOptions);
// then: a namespace in the URL → 404 (the resource is not namespaced, no such route); an empty
// spec.token → 400 "token is required for TokenReview in authentication"; spec.audiences empty → the API
// audiences; the answer is 201 Created with the review echoed (spec too, token included) and a status:
// `authenticated` (omitted when false), `user` (always present, `{}` when not authenticated),
// `audiences` (the intersection) and `error` (the authenticator's text; "invalid bearer token" when no
// authenticator recognised the token). Any other verb → 405.
import { decodeObject, writeParams } from './decode.js';
import { KINDS, type Kind } from './kinds.js';
import { OBJECT_META } from './schemas.js';
import { S } from './go-json.js';
import type { BoundPodLookup, ServiceAccountTokens } from './service-account-tokens.js';
import type { Store } from './store.js';
import { badRequest, methodNotAllowed, pathNotFound, unsupportedMediaType } from './status.js';
import type { Obj } from './validate-meta.js';

const TOKEN_REVIEW_SCHEMA = S.struct('v1.TokenReview', {
  apiVersion: S.string,
  kind: S.string,
  metadata: OBJECT_META,
  spec: S.struct('v1.TokenReviewSpec', { token: S.string, audiences: S.array(S.string) }),
  status: S.struct('v1.TokenReviewStatus', {
    authenticated: S.bool,
    user: S.struct('v1.UserInfo', { username: S.string, uid: S.string, groups: S.array(S.string), extra: S.map(S.array(S.string)) }),
    audiences: S.array(S.string),
    error: S.string,
  }),
});

/** For decoding only: TokenReviews have no storage, so the store strategy fields are never used. */
const TOKEN_REVIEWS: Kind = {
  group: 'authentication.k8s.io', version: 'v1', kind: 'TokenReview', resource: 'tokenreviews', namespaced: false,
  schema: TOKEN_REVIEW_SCHEMA, allowCreateOnUpdate: false, allowUnconditionalUpdate: false,
  defaults: (o) => o, validate: () => [], validateUpdate: () => [],
};

/** The store's Pods for the bound-token checks (when the store serves the Pod kind). */
export function storePods(store: () => Store): BoundPodLookup {
  return (namespace, name) => {
    const kind = KINDS.find((k) => k.group === '' && k.resource === 'pods');
    const pod = kind && store().peek(kind, namespace, name);
    if (pod === undefined) return undefined;
    const meta = (pod.metadata ?? {}) as { uid?: string };
    const spec = (pod.spec ?? {}) as { serviceAccountName?: string };
    return { uid: meta.uid ?? '', serviceAccount: spec.serviceAccountName || 'default' };
  };
}

const PREFIX = '/apis/authentication.k8s.io/v1/';

/** Whether the path is TokenReview's (collection, or a namespaced/named variant that does not exist). */
export function isTokenReviewPath(pathname: string): boolean {
  if (!pathname.startsWith(PREFIX)) return false;
  const rest = pathname.slice(PREFIX.length).split('/').filter((p) => p !== '');
  return rest.includes('tokenreviews');
}

export interface TokenReviewAnswer { readonly code: number; readonly body: unknown; readonly warnings: readonly string[] }

export function handleTokenReview(
  tokens: ServiceAccountTokens, pathname: string, method: string, query: URLSearchParams, contentType: string, text: string, nowMs: number = Date.now(),
): TokenReviewAnswer {
  const rest = pathname.slice(PREFIX.length).split('/').filter((p) => p !== '');
  if (rest.length !== 1 || rest[0] !== 'tokenreviews') throw pathNotFound();
  if (method !== 'POST') throw methodNotAllowed();
  const params = writeParams(query, 'CreateOptions');
  if (contentType !== '' && contentType !== 'application/json') {
    throw unsupportedMediaType(['application/json', 'application/yaml', 'application/vnd.kubernetes.protobuf']);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text) as unknown;
  } catch (err) {
    throw badRequest(`the object provided is unrecognized (must be of type TokenReview): couldn't get version/kind; json parse error: ${(err as Error).message}`);
  }
  const { object, warnings } = decodeObject(TOKEN_REVIEWS, parsed, params.fieldValidation);
  const spec = (object.spec ?? {}) as { token?: string; audiences?: string[] };
  const token = spec.token ?? '';
  if (token === '') throw badRequest('token is required for TokenReview in authentication');
  const result = tokens.authenticate(token, spec.audiences ?? [], nowMs);
  const status: Obj = result?.ok === true
    ? { authenticated: true, user: { ...result.user }, audiences: [...result.audiences] }
    : { user: {}, error: result?.error ?? 'invalid bearer token' };
  const meta = (object.metadata ?? {}) as Obj;
  return {
    code: 201,
    body: {
      kind: 'TokenReview',
      apiVersion: 'authentication.k8s.io/v1',
      metadata: { ...meta, creationTimestamp: null },
      spec: { ...spec },
      status,
    },
    warnings,
  };
}
