// Local mode: skein-local signs the projected service account tokens itself (RS256, issuer skein-local,
// e2e/src/local/volumes/token.ts) and publishes its public key as sa-pub.pem. This verifier checks them
// as kube-apiserver checks its own: signature, issuer, audience, lifetime, the subject against the
// kubernetes.io claims, and the bound pod (exists, same UID, same service account).
import { createPublicKey, type KeyObject } from 'node:crypto';
import { readFile, stat } from 'node:fs/promises';
import { CertifyRefusal } from '../errors.js';
import type { PodLookup, TokenVerifier, WorkloadIdentity } from '../types.js';
import { checkAudience, checkTimes, checkTokenSize, verifyRs256 } from './jwt.js';
import { checkBoundPod, DEFAULT_AUDIENCE, identityOf, parseServiceAccountUsername } from './service-account.js';

export const LOCAL_ISSUER = 'skein-local';

export interface LocalTokenVerifierOptions {
  /** skein-local's sa-pub.pem (SPKI PEM); re-read when its mtime, size or inode changes. */
  readonly publicKeyPath: string;
  readonly trustDomain: string;
  readonly pods: PodLookup;
  readonly audience?: 'skein-cp';
  /** For tests: the clock (ms). */
  readonly now?: () => number;
}

interface LoadedKey { readonly stamp: string; readonly key: KeyObject }

const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);
const objectOr = (v: unknown): Record<string, unknown> | undefined =>
  (typeof v === 'object' && v !== null && !Array.isArray(v) ? v as Record<string, unknown> : undefined);

/** The kubernetes.io private claims, which must say the same as `sub` (apiserver serviceaccount claims.go). */
function boundClaims(payload: Readonly<Record<string, unknown>>, id: { namespace: string; serviceAccount: string }): { name: string; uid: string } | undefined {
  const k = objectOr(payload['kubernetes.io']);
  if (k === undefined) throw new CertifyRefusal('not_service_account', 'the token has no kubernetes.io claims; it is not a service account token');
  const sa = objectOr(k.serviceaccount);
  if (str(k.namespace) !== id.namespace || str(sa?.name) !== id.serviceAccount) {
    throw new CertifyRefusal('bad_token', `the token's subject (${id.namespace}/${id.serviceAccount}) and its kubernetes.io claims (${String(k.namespace)}/${String(sa?.name)}) disagree`);
  }
  if (k.pod === undefined) return undefined;
  const pod = objectOr(k.pod);
  const name = str(pod?.name);
  const uid = str(pod?.uid);
  if (name === undefined || name === '' || uid === undefined || uid === '') throw new CertifyRefusal('bad_token', 'the token\'s kubernetes.io.pod claim has no name or uid');
  return { name, uid };
}

export function localTokenVerifier(opts: LocalTokenVerifierOptions): TokenVerifier {
  const audience = opts.audience ?? DEFAULT_AUDIENCE;
  const now = opts.now ?? Date.now;
  let loaded: LoadedKey | undefined;
  let loading: Promise<LoadedKey> | undefined;

  // One stat per verification: Certify is rare (a sidecar asks about once a day) and a rotated key must
  // take effect at once, without a restart.
  const load = async (): Promise<LoadedKey> => {
    let st;
    try {
      st = await stat(opts.publicKeyPath);
    } catch (err) {
      throw new Error(`cannot read the service account public key ${opts.publicKeyPath} (${(err as Error).message}); skein-local writes it at start: check --token-public-key`, { cause: err });
    }
    const stamp = `${st.ino}:${st.size}:${st.mtimeMs}`;
    if (loaded?.stamp === stamp) return loaded;
    const pem = await readFile(opts.publicKeyPath, 'utf8');
    let key: KeyObject;
    try {
      key = createPublicKey(pem);
    } catch (err) {
      throw new Error(`${opts.publicKeyPath} is not a PEM public key (${(err as Error).message}); point --token-public-key at skein-local's sa-pub.pem`, { cause: err });
    }
    loaded = { stamp, key };
    return loaded;
  };
  const currentKey = async (): Promise<KeyObject> => {
    // Concurrent verifications share one read.
    loading ??= load().finally(() => { loading = undefined; });
    return (await loading).key;
  };

  return {
    async verify(token: string): Promise<WorkloadIdentity> {
      checkTokenSize(token); // before the key file is even looked at
      const key = await currentKey();
      const { payload } = verifyRs256(token, key);
      if (payload.iss !== LOCAL_ISSUER) {
        throw new CertifyRefusal('bad_token', `the token's issuer is ${JSON.stringify(payload.iss)}, not ${LOCAL_ISSUER}; in local mode only skein-local's tokens are accepted`);
      }
      checkAudience(payload.aud, audience);
      checkTimes(payload, now());
      const id = parseServiceAccountUsername(payload.sub);
      const pod = boundClaims(payload, id);
      if (pod !== undefined) await checkBoundPod(opts.pods, id, pod);
      return identityOf(opts.trustDomain, id, pod);
    },
  };
}
