// Test support: the in-memory API server's service account token issuer and authenticator, modelled on
// kube-apiserver's (pkg/serviceaccount/jwt.go, claims.go; staging/.../authentication/serviceaccount).
// Tests mint tokens as the TokenRequest API (kubelet's projected volumes) would, and TokenReview
// (tokenreview.ts) authenticates them with the same checks and the same error texts:
//   - not a JWT of this issuer → not ours (the bearer-token layer then says "invalid bearer token");
//   - bad signature → go-jose's "error in cryptographic primitive";
//   - no requested audience in the token's → `token audiences ["x"] is invalid for the target audiences ["y"]`;
//   - exp/nbf with go-jose's 1 minute leeway → "service account token has expired" / "is not valid yet";
//   - the service account must exist with the token's UID; a bound pod must exist with the token's UID
//     ("service account token has been invalidated", "pod UID (a) does not match service account pod ref claim (b)").
// A pod exists if the store holds it (the Pod kind, with its uid and spec.serviceAccountName) or if a
// test added it here with addPod (and did not delete it): a test may seed Pods either way. Service
// accounts live in this issuer's table only (the store serves no ServiceAccount kind); mint adds them.
import { createHash, generateKeyPairSync, randomUUID, sign, verify, type KeyObject } from 'node:crypto';

export const SERVICE_ACCOUNT_ISSUER = 'https://kubernetes.default.svc.cluster.local';
/** kube-apiserver --api-audiences defaults to the issuer. */
export const API_AUDIENCES: readonly string[] = [SERVICE_ACCOUNT_ISSUER];
/** go-jose jwt.DefaultLeeway. */
const LEEWAY_SECONDS = 60;

export interface MintRequest {
  readonly namespace: string;
  readonly serviceAccount: string;
  /** Bound pod (a projected token always has one); must have been added with addPod. */
  readonly pod?: { readonly name: string; readonly uid: string };
  /** Default: the API audiences. */
  readonly audiences?: readonly string[];
  /** Default 3607 (kubelet's projected token default when warnafter is on). */
  readonly expirationSeconds?: number;
  /** Issue time (ms); default now. An expired token is one minted in the past. */
  readonly now?: number;
}

export interface UserInfo {
  readonly username: string;
  readonly uid: string;
  readonly groups: readonly string[];
  readonly extra: Readonly<Record<string, readonly string[]>>;
}

/** authenticator.Response or its error: what the TokenReview REST turns into a status. */
export type AuthResult =
  | { readonly ok: true; readonly user: UserInfo; readonly audiences: readonly string[] }
  | { readonly ok: false; readonly error: string };

/** Go's %q of a []string: ["a" "b"]. */
const goQuoteList = (l: readonly string[]): string => `[${l.map((s) => JSON.stringify(s)).join(' ')}]`;
const b64 = (v: unknown): string => Buffer.from(JSON.stringify(v)).toString('base64url');

/** A pod as the bound-token checks see it. */
export type BoundPodLookup = (namespace: string, name: string) => { uid: string; serviceAccount: string } | undefined;

export class ServiceAccountTokens {
  private keys: { privateKey: KeyObject; publicKey: KeyObject; keyId: string } | undefined;
  private readonly serviceAccounts = new Map<string, string>();
  private readonly pods = new Map<string, { uid: string; serviceAccount: string }>();
  private readonly staticTokens = new Map<string, string>();
  /** How many tokens were authenticated (a test counts the reviews a cache saved). */
  reviews = 0;

  constructor(private readonly storePods: BoundPodLookup = () => undefined) {}

  private pod(namespace: string, name: string): { uid: string; serviceAccount: string } | undefined {
    return this.storePods(namespace, name) ?? this.pods.get(`${namespace}/${name}`);
  }

  /** Made on first use: most API server tests never see a token, and an RSA key costs ~100 ms. */
  private get signing(): { privateKey: KeyObject; publicKey: KeyObject; keyId: string } {
    if (this.keys === undefined) {
      const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
      // pkg/serviceaccount keyIDFromPublicKey: base64url(sha256(DER SPKI)).
      this.keys = { privateKey, publicKey, keyId: createHash('sha256').update(publicKey.export({ type: 'spki', format: 'der' })).digest('base64url') };
    }
    return this.keys;
  }

  get publicKey(): KeyObject {
    return this.signing.publicKey;
  }

  /**
   * A --token-auth-file entry (user, not a service account). Like every audience-agnostic authenticator
   * it is wrapped by WrapAudienceAgnosticToken: it authenticates only for the API audiences.
   */
  addStaticToken(token: string, username: string): void {
    this.staticTokens.set(token, username);
  }

  /** Creates the service account (if new) and returns its UID. */
  addServiceAccount(namespace: string, name: string): string {
    const k = `${namespace}/${name}`;
    let uid = this.serviceAccounts.get(k);
    if (uid === undefined) {
      uid = randomUUID();
      this.serviceAccounts.set(k, uid);
    }
    return uid;
  }

  deleteServiceAccount(namespace: string, name: string): void {
    this.serviceAccounts.delete(`${namespace}/${name}`);
  }

  /** Creates (or re-creates, with a new UID) a pod running as `serviceAccount`; returns its UID. */
  addPod(namespace: string, name: string, serviceAccount: string, uid: string = randomUUID()): string {
    this.addServiceAccount(namespace, serviceAccount);
    this.pods.set(`${namespace}/${name}`, { uid, serviceAccount });
    return uid;
  }

  deletePod(namespace: string, name: string): void {
    this.pods.delete(`${namespace}/${name}`);
  }

  /** A token as TokenRequest mints it (pkg/serviceaccount/claims.go Claims + jwt.go GenerateToken). */
  mint(req: MintRequest): string {
    const saUid = this.addServiceAccount(req.namespace, req.serviceAccount);
    if (req.pod !== undefined && this.pod(req.namespace, req.pod.name)?.uid !== req.pod.uid) {
      throw new Error(`pod ${req.namespace}/${req.pod.name} with UID ${req.pod.uid} does not exist (addPod first)`);
    }
    const iat = Math.floor((req.now ?? Date.now()) / 1000);
    const payload = {
      aud: req.audiences ?? API_AUDIENCES,
      exp: iat + (req.expirationSeconds ?? 3607),
      iat,
      iss: SERVICE_ACCOUNT_ISSUER,
      jti: randomUUID(),
      'kubernetes.io': {
        namespace: req.namespace,
        ...(req.pod !== undefined ? { pod: { name: req.pod.name, uid: req.pod.uid } } : {}),
        serviceaccount: { name: req.serviceAccount, uid: saUid },
      },
      nbf: iat,
      sub: `system:serviceaccount:${req.namespace}:${req.serviceAccount}`,
    };
    return this.signed({ alg: 'RS256', kid: this.signing.keyId }, payload);
  }

  /** Signs any header/payload with the issuer's key (tests forge tokens with it). */
  signed(header: Record<string, unknown>, payload: Record<string, unknown>): string {
    const input = `${b64(header)}.${b64(payload)}`;
    return `${input}.${sign('sha256', Buffer.from(input), this.signing.privateKey).toString('base64url')}`;
  }

  /**
   * jwtTokenAuthenticator.AuthenticateToken + validator.Validate. `undefined`: not a token of this
   * issuer (another authenticator's, or garbage).
   */
  authenticate(token: string, requestedAudiences: readonly string[], nowMs: number = Date.now()): AuthResult | undefined {
    this.reviews += 1;
    const requested = requestedAudiences.length > 0 ? requestedAudiences : API_AUDIENCES;
    const user = this.staticTokens.get(token);
    if (user !== undefined) {
      const audiences = API_AUDIENCES.filter((a) => requested.includes(a));
      if (audiences.length === 0) return undefined;
      return { ok: true, audiences, user: { username: user, uid: '', groups: ['system:authenticated'], extra: {} } };
    }
    const parts = token.split('.');
    if (token.trim().startsWith('{') || parts.length !== 3) return undefined;
    let header: Record<string, unknown>; let claims: Record<string, unknown>;
    try {
      header = JSON.parse(Buffer.from(parts[0] ?? '', 'base64url').toString('utf8')) as Record<string, unknown>;
      claims = JSON.parse(Buffer.from(parts[1] ?? '', 'base64url').toString('utf8')) as Record<string, unknown>;
    } catch {
      return undefined;
    }
    if (claims.iss !== SERVICE_ACCOUNT_ISSUER) return undefined;
    // jwt.ParseSigned with the allowed algorithms (RS256, ES256/384/512): anything else does not parse.
    if (header.alg !== 'RS256') return undefined;
    const sig = Buffer.from(parts[2] ?? '', 'base64url');
    if (!verify('sha256', Buffer.from(`${parts[0]}.${parts[1]}`), this.publicKey, sig)) {
      return { ok: false, error: 'go-jose/go-jose: error in cryptographic primitive' };
    }
    const aud = typeof claims.aud === 'string' ? [claims.aud] : Array.isArray(claims.aud) ? claims.aud.map(String) : [];
    const tokenAudiences = aud.length > 0 ? aud : [...API_AUDIENCES];
    const audiences = tokenAudiences.filter((a) => requested.includes(a));
    if (audiences.length === 0) {
      return { ok: false, error: `token audiences ${goQuoteList(tokenAudiences)} is invalid for the target audiences ${goQuoteList(requested)}` };
    }
    const now = nowMs / 1000;
    if (typeof claims.exp === 'number' && now > claims.exp + LEEWAY_SECONDS) return { ok: false, error: 'service account token has expired' };
    if (typeof claims.nbf === 'number' && now < claims.nbf - LEEWAY_SECONDS) return { ok: false, error: 'service account token is not valid yet' };
    const k = (claims['kubernetes.io'] ?? {}) as { namespace?: string; serviceaccount?: { name?: string; uid?: string }; pod?: { name?: string; uid?: string } };
    const ns = k.namespace ?? '';
    const saName = k.serviceaccount?.name ?? '';
    const saUid = this.serviceAccounts.get(`${ns}/${saName}`);
    if (saUid === undefined) return { ok: false, error: `serviceaccounts "${saName}" not found` };
    if (saUid !== k.serviceaccount?.uid) return { ok: false, error: `service account UID (${saUid}) does not match claim (${k.serviceaccount?.uid ?? ''})` };
    const extra: Record<string, string[]> = {};
    if (k.pod !== undefined) {
      const pod = this.pod(ns, k.pod.name ?? '');
      if (pod === undefined) return { ok: false, error: 'service account token has been invalidated' };
      if (pod.uid !== k.pod.uid) return { ok: false, error: `pod UID (${pod.uid}) does not match service account pod ref claim (${k.pod.uid ?? ''})` };
      extra['authentication.kubernetes.io/pod-name'] = [k.pod.name ?? ''];
      extra['authentication.kubernetes.io/pod-uid'] = [k.pod.uid];
    }
    if (typeof claims.jti === 'string') extra['authentication.kubernetes.io/credential-id'] = [`JTI=${claims.jti}`];
    return {
      ok: true,
      audiences,
      user: {
        username: `system:serviceaccount:${ns}:${saName}`,
        uid: saUid,
        // The authenticator's groups, then the group adder's system:authenticated.
        groups: ['system:serviceaccounts', `system:serviceaccounts:${ns}`, 'system:authenticated'],
        extra,
      },
    };
  }
}
