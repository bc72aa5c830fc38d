// The Secret `skein-webhook-tls` that the replicas share: its layout and what the leader must do about it.
// Pure: (Secret data, now) → decision. The I/O is tls-sync.ts.
import { createCa, issueServing, type KeyPairPem } from '../tls/issue.js';
import { checkCaPair, checkServing, certWindow, type CheckedServing } from '../tls/material.js';
import { assessRotation } from '../tls/rotation.js';

export const TLS_SECRET_NAME = 'skein-webhook-tls';
/** kubernetes.io/tls requires tls.crt/tls.key; the CA travels with them so any new leader can re-issue. */
export const SECRET_TYPE = 'kubernetes.io/tls';
export const KEY_TLS_CRT = 'tls.crt';
export const KEY_TLS_KEY = 'tls.key';
export const KEY_CA_CRT = 'ca.crt';
export const KEY_CA_KEY = 'ca.key';

/** Decoded Secret content (PEM strings). */
export interface SecretPems {
  readonly ca: KeyPairPem;
  readonly serving: KeyPairPem;
}

/** Secret `data` (base64 values) → PEMs; undefined when a key is missing. */
export function decodeSecretData(data: Readonly<Record<string, string>> | undefined): SecretPems | undefined {
  const get = (k: string): string | undefined => {
    const v = data?.[k];
    return v === undefined || v === '' ? undefined : Buffer.from(v, 'base64').toString('utf8');
  };
  const caCert = get(KEY_CA_CRT);
  const caKey = get(KEY_CA_KEY);
  const cert = get(KEY_TLS_CRT);
  const key = get(KEY_TLS_KEY);
  if (!caCert || !caKey || !cert || !key) return undefined;
  return { ca: { certPem: caCert, keyPem: caKey }, serving: { certPem: cert, keyPem: key } };
}

export function encodeSecretData(p: SecretPems): Record<string, string> {
  const b64 = (s: string): string => Buffer.from(s, 'utf8').toString('base64');
  return {
    [KEY_CA_CRT]: b64(p.ca.certPem),
    [KEY_CA_KEY]: b64(p.ca.keyPem),
    [KEY_TLS_CRT]: b64(p.serving.certPem),
    [KEY_TLS_KEY]: b64(p.serving.keyPem),
  };
}

export function servingOf(p: SecretPems, now: Date): CheckedServing {
  return checkServing({ caCertPem: p.ca.certPem, certPem: p.serving.certPem, keyPem: p.serving.keyPem }, now);
}

export type SecretVerdict =
  | { readonly action: 'keep'; readonly material: CheckedServing }
  /** Keep the CA, issue a new serving certificate (rotation due, or the serving pair is broken). */
  | { readonly action: 'reissue-serving'; readonly reason: string }
  /** No usable CA: start over (the caBundle is rewritten with the new CA). */
  | { readonly action: 'create'; readonly reason: string };

/** What the leader should do with the Secret as read. Followers only use `keep` material. */
export function assessSecret(pems: SecretPems | undefined, now: Date): SecretVerdict {
  if (pems === undefined) return { action: 'create', reason: 'secret missing or incomplete' };
  try {
    const caWindow = certWindow(pems.ca.certPem);
    if (assessRotation(caWindow, now, 1).rotate) return { action: 'create', reason: 'CA expired' };
  } catch {
    return { action: 'create', reason: 'CA does not parse' };
  }
  let material: CheckedServing;
  try {
    material = servingOf(pems, now);
  } catch (err) {
    return reissueWithCa(pems, (err as Error).message);
  }
  const verdict = assessRotation(material, now);
  if (verdict.rotate) return reissueWithCa(pems, `serving certificate ${verdict.reason}`);
  return { action: 'keep', material };
}

/**
 * Re-issuing signs with the CA key, so it must belong to the CA certificate (checked by node:crypto before
 * node-forge parses it). If it does not, signing would fail or yield a certificate that does not verify, on
 * every poll, forever: start over with a new CA instead. A working serving certificate is kept meanwhile.
 */
function reissueWithCa(pems: SecretPems, reason: string): SecretVerdict {
  try {
    checkCaPair(pems.ca);
  } catch (err) {
    return { action: 'create', reason: `${reason}, and the CA cannot sign: ${(err as Error).message}` };
  }
  return { action: 'reissue-serving', reason };
}

/** Carries out a non-keep verdict: new PEMs to write (the CA is reused for reissue-serving). */
export function renewPems(pems: SecretPems | undefined, verdict: SecretVerdict, namespace: string, now: Date): SecretPems {
  const ca = verdict.action === 'reissue-serving' && pems ? pems.ca : createCa(now);
  return { ca, serving: issueServing(ca, namespace, now) };
}
