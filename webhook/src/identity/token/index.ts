// Who a caller is: its projected service account token, verified against skein-local's key (local
// mode) or by the API server (TokenReview, Kubernetes mode), with the bound pod checked. May import
// ../types, ../errors and ../../kube/client (types only); used by identity/certify and discovery/.
export { localTokenVerifier, LOCAL_ISSUER, type LocalTokenVerifierOptions } from './local.js';
export { kubeTokenVerifier, POD_NAME_EXTRA, POD_UID_EXTRA, type KubeTokenVerifierOptions } from './kube.js';
export { MAX_TOKEN_BYTES, CLOCK_SKEW_SECONDS } from './jwt.js';
export { REVIEW_CACHE_TTL_MS } from './review-cache.js';
export { DEFAULT_AUDIENCE, spiffeIdOf } from './service-account.js';
