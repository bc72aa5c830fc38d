// Test support: tokens as skein-local mints them (e2e/src/local/volumes/token.ts: RS256, kid
// skein-local, issuer skein-local, sub + kubernetes.io claims, iat = nbf, exp = iat + expirationSeconds),
// with hooks to forge every part for the refusal tests.
import { createHmac, randomUUID, sign, type KeyObject } from 'node:crypto';

export interface LocalMint {
  readonly namespace: string;
  readonly serviceAccount: string;
  readonly pod?: { readonly name: string; readonly uid: string };
  readonly audiences?: readonly string[];
  readonly expirationSeconds?: number;
  /** ms */
  readonly now?: number;
  /** Merged over the header / payload skein-local writes (undefined values delete a claim). */
  readonly header?: Record<string, unknown>;
  readonly payload?: Record<string, unknown>;
}

const b64 = (v: unknown): string => Buffer.from(JSON.stringify(v)).toString('base64url');

function merge(base: Record<string, unknown>, over: Record<string, unknown> | undefined): Record<string, unknown> {
  const out = { ...base };
  for (const [k, v] of Object.entries(over ?? {})) {
    if (v === undefined) delete out[k];
    else out[k] = v;
  }
  return out;
}

export function localClaims(m: LocalMint): { header: Record<string, unknown>; payload: Record<string, unknown> } {
  const iat = Math.floor((m.now ?? Date.now()) / 1000);
  const header = merge({ alg: 'RS256', typ: 'JWT', kid: 'skein-local' }, m.header);
  const payload = merge({
    iss: 'skein-local',
    sub: `system:serviceaccount:${m.namespace}:${m.serviceAccount}`,
    aud: m.audiences ?? ['skein-cp'],
    iat,
    nbf: iat,
    exp: iat + (m.expirationSeconds ?? 3600),
    jti: randomUUID(),
    'kubernetes.io': {
      namespace: m.namespace,
      ...(m.pod ? { pod: { name: m.pod.name, uid: m.pod.uid } } : {}),
      serviceaccount: { name: m.serviceAccount },
    },
  }, m.payload);
  return { header, payload };
}

/** Signed RS256 with `key` (whatever the header's alg says: forgeries set it). */
export function mintLocal(key: KeyObject, m: LocalMint): string {
  const { header, payload } = localClaims(m);
  const input = `${b64(header)}.${b64(payload)}`;
  return `${input}.${sign('sha256', Buffer.from(input), key).toString('base64url')}`;
}

/** An `alg: none` token (empty signature). */
export function unsignedToken(m: LocalMint): string {
  const { header, payload } = localClaims({ ...m, header: { ...m.header, alg: 'none' } });
  return `${b64(header)}.${b64(payload)}.`;
}

/** The key-confusion forgery: HS256 with the verifier's public key PEM as the HMAC secret. */
export function hs256WithPublicKey(publicKeyPem: string, m: LocalMint): string {
  const { header, payload } = localClaims({ ...m, header: { ...m.header, alg: 'HS256' } });
  const input = `${b64(header)}.${b64(payload)}`;
  return `${input}.${createHmac('sha256', publicKeyPem).update(input).digest('base64url')}`;
}
