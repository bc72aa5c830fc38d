// Who may get which certificate: the Identity.Certify handler (size, token, rate limit, CA) and the two
// token verifiers it is built with. May import ../token, ../types, ../errors, ../../log, @skein/api;
// main.ts (mesh-services.ts) wires it, identity/ca signs.
export {
  createIdentityService, CERTIFY_SERVICE_DEFINITION, MAX_CERTIFY_REQUEST_BYTES,
  type IdentityServiceDeps, type SigningCa,
} from './service.js';
export { CERTIFY_BURST, CERTIFY_PER_MINUTE } from './rate-limit.js';
export { localTokenVerifier, kubeTokenVerifier } from '../token/index.js';
