// The SPIFFE ID a peer's certificate carries, checked strictly: exactly one URI SAN, of the form
// spiffe://<trust domain>/ns/<ns>/sa/<sa>, in our trust domain, with no `%` (no percent-encoding that
// could hide a `/`), no `.` or `..` segment and no empty segment (reliability: path tricks that made
// other meshes compare identities as equal that were not). Pure; imports nothing.

export type SpiffeProblem = 'no_uri_san' | 'two_uri_sans' | 'bad_spiffe_id' | 'wrong_trust_domain';

export type SpiffeCheck = { ok: true; id: string; namespace: string; serviceAccount: string } | { ok: false; problem: SpiffeProblem; detail: string };

// SPIFFE spec: trust domain [a-z0-9.-_], path segments [A-Za-z0-9.-_]; Kubernetes names fit in these.
const TRUST_DOMAIN = /^[a-z0-9._-]+$/;
const SEGMENT = /^[A-Za-z0-9._-]+$/;
const MAX_ID = 2048;

/** Parses `id` as a workload SPIFFE ID of `trustDomain`. */
export function parseSpiffeId(id: string, trustDomain: string): SpiffeCheck {
  const bad = (detail: string): SpiffeCheck => ({ ok: false, problem: 'bad_spiffe_id', detail });
  if (id.length > MAX_ID) return bad('longer than 2048 characters');
  if (!id.startsWith('spiffe://')) return bad('not a spiffe:// URI');
  if (id.includes('%')) return bad('percent-encoding is not allowed');
  const rest = id.slice('spiffe://'.length);
  const slash = rest.indexOf('/');
  if (slash <= 0) return bad('no trust domain or no path');
  const domain = rest.slice(0, slash);
  if (!TRUST_DOMAIN.test(domain)) return bad('invalid trust domain');
  const segments = rest.slice(slash + 1).split('/');
  for (const s of segments) {
    if (s === '') return bad('empty path segment');
    if (s === '.' || s === '..') return bad('dot segment in the path');
    if (!SEGMENT.test(s)) return bad('invalid character in the path');
  }
  if (segments.length !== 4 || segments[0] !== 'ns' || segments[2] !== 'sa') return bad('path is not /ns/<namespace>/sa/<service account>');
  if (domain !== trustDomain) return { ok: false, problem: 'wrong_trust_domain', detail: `trust domain ${domain}, expected ${trustDomain}` };
  return { ok: true, id, namespace: segments[1] as string, serviceAccount: segments[3] as string };
}

/**
 * The URI SANs of a certificate from Node's `subjectaltname` string ("DNS:a, URI:spiffe://…"). Node
 * writes a value that holds a separator, a quote or a non-printable character as a JSON string
 * (`URI:"…"`); such a value is returned as is, quotes included, so that parseSpiffeId refuses it.
 */
export function uriSans(subjectAltName: string | undefined): string[] {
  const uris: string[] = [];
  if (!subjectAltName) return uris;
  let i = 0;
  const s = subjectAltName;
  while (i < s.length) {
    const colon = s.indexOf(':', i);
    if (colon < 0) break;
    const type = s.slice(i, colon);
    let end: number;
    if (s[colon + 1] === '"') {
      end = colon + 2;
      while (end < s.length && s[end] !== '"') end += s[end] === '\\' ? 2 : 1;
      end = Math.min(end + 1, s.length);
    } else {
      end = s.indexOf(', ', colon + 1);
      if (end < 0) end = s.length;
    }
    if (type === 'URI') uris.push(s.slice(colon + 1, end));
    i = end + 2;
  }
  return uris;
}

/** The peer's SPIFFE ID from its certificate's subjectaltname, checked against the trust domain. */
export function peerSpiffeId(subjectAltName: string | undefined, trustDomain: string): SpiffeCheck {
  const uris = uriSans(subjectAltName);
  if (uris.length === 0) return { ok: false, problem: 'no_uri_san', detail: 'the certificate has no URI SAN' };
  if (uris.length > 1) return { ok: false, problem: 'two_uri_sans', detail: `the certificate has ${uris.length} URI SANs` };
  return parseSpiffeId(uris[0] as string, trustDomain);
}
