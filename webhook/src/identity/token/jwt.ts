// A compact JWS (RFC 7515) signed RS256 (RFC 7518 §3.3), verified with node:crypto only. No JWT library:
// the few checks below are the whole job, and each library bug class they avoid is named beside it.
// - The algorithm is pinned by the verifier, never taken from the token: `alg` must be exactly RS256
//   (`none`, HS256 with the public key as the HMAC secret, ES/PS variants and anything else refused).
// - The key must be RSA ≥ 2048 bits (a verifier handed another key type refuses, it does not adapt).
// - base64url is decoded strictly (no padding, no stray characters): Node's decoder skips junk silently.
// - `crit` headers are refused (RFC 7515 §4.1.11: an extension we do not understand must fail).
import { verify as rsaVerify, constants, type KeyObject } from 'node:crypto';
import { CertifyRefusal } from '../errors.js';

/** A service account token is about 1 KiB; 16 KiB is far beyond any real one and bounds the work. */
export const MAX_TOKEN_BYTES = 16 * 1024;
/** Clock skew allowed on exp and nbf (kube-apiserver's go-jose leeway is also 60 s). */
export const CLOCK_SKEW_SECONDS = 60;

export interface VerifiedJwt {
  readonly header: Readonly<Record<string, unknown>>;
  readonly payload: Readonly<Record<string, unknown>>;
}

const B64URL = /^[A-Za-z0-9_-]*$/;

function decodePart(part: string, what: string): Buffer {
  // A length of 1 mod 4 cannot be base64 of anything.
  if (!B64URL.test(part) || part.length % 4 === 1) throw new CertifyRefusal('bad_token', `the token's ${what} is not base64url; send the projected service account token unchanged`);
  return Buffer.from(part, 'base64url');
}

function jsonObject(buf: Buffer, what: string): Record<string, unknown> {
  let v: unknown;
  try {
    v = JSON.parse(buf.toString('utf8'));
  } catch {
    throw new CertifyRefusal('bad_token', `the token's ${what} is not JSON; send the projected service account token unchanged`);
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new CertifyRefusal('bad_token', `the token's ${what} is not a JSON object`);
  return v as Record<string, unknown>;
}

/** Empty or oversized tokens, before any parsing (shared by the local and the TokenReview verifier). */
export function checkTokenSize(token: string): void {
  if (token === '') throw new CertifyRefusal('no_token', 'no token: send the pod\'s projected service account token (audience skein-cp, the file at SKEIN_TOKEN_PATH)');
  const bytes = Buffer.byteLength(token, 'utf8');
  if (bytes > MAX_TOKEN_BYTES) {
    throw new CertifyRefusal('oversized', `the token is ${bytes} bytes, more than ${MAX_TOKEN_BYTES}; a service account token is about 1 KiB: send the projected token, nothing else`);
  }
}

/** The payload of a JWT-shaped token WITHOUT verifying it (only to bound a cache lifetime by `exp`). */
export function unverifiedExp(token: string): number | undefined {
  const parts = token.split('.');
  if (parts.length !== 3 || parts[1] === undefined) return undefined;
  try {
    const exp = (JSON.parse(Buffer.from(parts[1], 'base64url').toString('utf8')) as { exp?: unknown }).exp;
    return typeof exp === 'number' && Number.isFinite(exp) ? exp : undefined;
  } catch {
    return undefined;
  }
}

/** Checks the compact form, the header and the RS256 signature against `key`; returns the decoded parts. */
export function verifyRs256(token: string, key: KeyObject): VerifiedJwt {
  checkTokenSize(token);
  const parts = token.split('.');
  if (parts.length !== 3) throw new CertifyRefusal('bad_token', `the token has ${parts.length} dot-separated parts, a signed JWT has 3; send the projected service account token`);
  const [h, p, s] = parts as [string, string, string];
  const header = jsonObject(decodePart(h, 'header'), 'header');
  if (header.alg !== 'RS256') {
    throw new CertifyRefusal('bad_token', `the token is signed with alg ${JSON.stringify(header.alg)}; only RS256 service account tokens are accepted`);
  }
  if ('crit' in header) throw new CertifyRefusal('bad_token', 'the token has critical header extensions (crit), which skein-cp does not implement');
  const signature = decodePart(s, 'signature');
  if (key.asymmetricKeyType !== 'rsa' || (key.asymmetricKeyDetails?.modulusLength ?? 0) < 2048) {
    throw new Error(`the token verification key is ${key.asymmetricKeyType ?? 'not asymmetric'} (${key.asymmetricKeyDetails?.modulusLength ?? '?'} bits); RS256 needs an RSA public key of at least 2048 bits`);
  }
  const ok = rsaVerify('sha256', Buffer.from(`${h}.${p}`, 'ascii'), { key, padding: constants.RSA_PKCS1_PADDING }, signature);
  if (!ok) throw new CertifyRefusal('bad_token', 'the token\'s signature does not verify with the cluster\'s service account key; send a token the cluster issued (a restarted skein-local mints new ones)');
  return { header, payload: jsonObject(decodePart(p, 'payload'), 'payload') };
}

export interface TimeClaims { readonly exp?: unknown; readonly nbf?: unknown }

/** exp (required) and nbf (optional), NumericDate seconds, with CLOCK_SKEW_SECONDS either way. */
export function checkTimes(claims: TimeClaims, nowMs: number): void {
  const now = nowMs / 1000;
  if (typeof claims.exp !== 'number' || !Number.isFinite(claims.exp)) throw new CertifyRefusal('bad_token', 'the token has no numeric exp claim; service account tokens always expire');
  if (now > claims.exp + CLOCK_SKEW_SECONDS) {
    throw new CertifyRefusal('expired', `the token expired at ${new Date(claims.exp * 1000).toISOString()}; read the projected token again (kubelet rotates it) and check the node's clock`);
  }
  if (claims.nbf !== undefined) {
    if (typeof claims.nbf !== 'number' || !Number.isFinite(claims.nbf)) throw new CertifyRefusal('bad_token', 'the token\'s nbf claim is not a number');
    if (now < claims.nbf - CLOCK_SKEW_SECONDS) {
      throw new CertifyRefusal('bad_token', `the token is not valid before ${new Date(claims.nbf * 1000).toISOString()}; the clocks of the node and skein-cp disagree by more than ${CLOCK_SKEW_SECONDS} s`);
    }
  }
}

/** aud is a string or an array of strings (RFC 7519 §4.1.3); it must name `audience`. */
export function checkAudience(aud: unknown, audience: string): void {
  const list = typeof aud === 'string' ? [aud] : Array.isArray(aud) ? aud.filter((a): a is string => typeof a === 'string') : [];
  if (!list.includes(audience)) {
    throw new CertifyRefusal('wrong_audience', `the token is for audience ${JSON.stringify(list)}, not ${JSON.stringify(audience)}; mount a projected service account token with audience ${audience} (the injector does this)`);
  }
}
