// Kubernetes mode: the API server says whether a token is a live service account token for audience
// skein-cp (TokenReview, authentication.k8s.io/v1), so skein-cp needs no signing keys and follows the
// cluster's issuer configuration (key rotation, external issuers) for free. What the review cannot say
// is checked here: that the server was audience-aware (status.audiences names ours), that the user is
// a service account, and — for a bound token — that its pod still exists with that UID in what
// skein-cp sees (the review checks its own storage; this checks ours, the pod the certificate is for).
import type { KubeIo, TokenReviewView } from '../../kube/client.js';
import { CertifyRefusal } from '../errors.js';
import type { PodLookup, TokenVerifier, WorkloadIdentity } from '../types.js';
import { checkTokenSize, unverifiedExp } from './jwt.js';
import { ReviewCache, tokenHash } from './review-cache.js';
import { checkBoundPod, DEFAULT_AUDIENCE, identityOf, parseServiceAccountUsername } from './service-account.js';

export const POD_NAME_EXTRA = 'authentication.kubernetes.io/pod-name';
export const POD_UID_EXTRA = 'authentication.kubernetes.io/pod-uid';

export interface KubeTokenVerifierOptions {
  readonly io: Pick<KubeIo, 'createTokenReview'>;
  readonly trustDomain: string;
  readonly pods: PodLookup;
  readonly audience?: 'skein-cp';
  /** For tests: the clock (ms). */
  readonly now?: () => number;
  readonly cacheTtlMs?: number;
}

interface Reviewed { readonly namespace: string; readonly serviceAccount: string; readonly pod: { name: string; uid: string } | undefined }

/**
 * An unauthenticated review's error, as kube-apiserver words it (pkg/serviceaccount/jwt.go, claims.go),
 * to the reason the caller and the metrics see. Unknown wording is a plain bad token.
 */
function refusalOf(error: string | undefined): CertifyRefusal {
  const e = error ?? '';
  const said = e === '' ? '' : ` (API server: ${e})`;
  if (e.includes('has expired')) return new CertifyRefusal('expired', `the token has expired${said}; read the projected token again (kubelet rotates it)`);
  if (e.includes('is invalid for the target audiences')) {
    return new CertifyRefusal('wrong_audience', `the token is not for audience skein-cp${said}; mount a projected service account token with audience skein-cp (the injector does this)`);
  }
  if (e.includes('pod UID')) return new CertifyRefusal('replaced_pod', `the token belongs to a pod that was re-created${said}; the new pod has its own token`);
  if (e.includes('has been invalidated') || e.includes('has been deleted')) {
    return new CertifyRefusal('unknown_pod', `the token's pod or service account no longer exists${said}`);
  }
  return new CertifyRefusal('bad_token', `the API server did not authenticate the token${said}; send the pod's projected service account token`);
}

function one(extra: Readonly<Record<string, readonly string[]>>, key: string): string | undefined {
  const v = extra[key];
  if (v === undefined || v.length === 0) return undefined;
  if (v.length !== 1 || v[0] === '') throw new CertifyRefusal('bad_token', `the TokenReview's user.extra[${key}] has ${v.length} values; expected one`);
  return v[0];
}

function interpret(status: TokenReviewView, audience: string): Reviewed {
  if (!status.authenticated) throw refusalOf(status.error);
  // An authenticator that ignores audiences answers with none: such a "yes" says nothing about ours.
  if (!status.audiences.includes(audience)) {
    throw new CertifyRefusal('wrong_audience', `the API server authenticated the token but not for audience ${audience} (status.audiences ${JSON.stringify(status.audiences)}); use a projected token with audience ${audience}`);
  }
  const id = parseServiceAccountUsername(status.username);
  const name = one(status.extra, POD_NAME_EXTRA);
  const uid = one(status.extra, POD_UID_EXTRA);
  if ((name === undefined) !== (uid === undefined)) throw new CertifyRefusal('bad_token', 'the TokenReview names the bound pod without its UID (or the reverse)');
  return { ...id, pod: name !== undefined && uid !== undefined ? { name, uid } : undefined };
}

export function kubeTokenVerifier(opts: KubeTokenVerifierOptions): TokenVerifier {
  const audience = opts.audience ?? DEFAULT_AUDIENCE;
  const now = opts.now ?? Date.now;
  const cache = new ReviewCache<Reviewed>(opts.cacheTtlMs);
  const inflight = new Map<string, Promise<Reviewed>>();

  const review = async (token: string, key: string): Promise<Reviewed> => {
    const cached = cache.get(key, now());
    if (cached !== undefined) return cached;
    let p = inflight.get(key);
    if (p === undefined) {
      p = (async () => {
        let status: TokenReviewView;
        try {
          status = await opts.io.createTokenReview(token, [audience]);
        } catch (err) {
          // Not the caller's fault: an UNAVAILABLE-class error, the sidecar retries.
          throw new Error(`the TokenReview failed (${(err as Error).message}); skein-cp needs RBAC "create tokenreviews" and a reachable API server`, { cause: err });
        }
        const r = interpret(status, audience);
        const exp = unverifiedExp(token);
        cache.set(key, r, now(), exp === undefined ? undefined : exp * 1000);
        return r;
      })().finally(() => inflight.delete(key));
      inflight.set(key, p);
    }
    return p;
  };

  return {
    async verify(token: string): Promise<WorkloadIdentity> {
      checkTokenSize(token);
      const r = await review(token, tokenHash(token));
      // Every time, cached review or not: a pod deleted a second ago must not get a certificate.
      if (r.pod !== undefined) await checkBoundPod(opts.pods, r, r.pod);
      return identityOf(opts.trustDomain, r, r.pod);
    },
  };
}
