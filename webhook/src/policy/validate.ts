// Validation of a TrafficPermission beyond its CRD schema (docs/policy.md "## Validation"), and what an
// invalid one becomes. Local mode has no schema at all (skein-local stores what it is given), so every
// rule of the schema is checked here too, plus what a schema cannot say: globs that are literal (only
// "*" is special, a "." is a dot), paths in the normalised form the sidecar matches (a Deny of a path
// that no normalised request can have is a hole), `from: []` / `to: []` (empty lists read as "any").
//
// An invalid object never allows more than before: an invalid Deny (or an object whose action is not
// Allow) denies everything for its selector; an invalid Allow allows nothing (types.ts Effect). Pure.
import { Action, type discovery } from '@skein/api';
import { parseSelector, SELECT_ALL } from './selector.js';
import type { Effect, TrafficPermissionObject, Verdict } from './types.js';

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

// The CRD's limits (manifests/crds/trafficpermission.yaml), enforced in local mode too.
const MAX_FROM = 64;
const MAX_TO = 64;
const MAX_SERVICE_ACCOUNTS = 128;
const MAX_NAMESPACES = 128;
const MAX_PORTS = 64;
const MAX_METHODS = 16;
const MAX_PATHS = 64;
const MAX_PATH_LENGTH = 1024;
const MAX_METHOD_LENGTH = 32;

/** A namespace with "*" globs: a DNS-1123 label whose characters may be "*". */
const NAMESPACE_GLOB = /^[a-z0-9*]([-a-z0-9*]{0,61}[a-z0-9*])?$/;
/** A service account name with "*" globs: a DNS-1123 subdomain whose characters may be "*". */
const SA_GLOB = /^[a-z0-9*]([-.a-z0-9*]{0,251}[a-z0-9*])?$/;
/** RFC 9110 token characters, without lower-case letters (the sidecar compares after upper-casing). */
const METHOD = /^[!#$%&'*+\-.^_`|~0-9A-Z]+$/;
const REGEX_CHARS = /[\\^$+?()[\]{}|]/;
/** RFC 3986 unreserved characters: the sidecar decodes their escapes, so a policy never has them encoded. */
const UNRESERVED = /^[A-Za-z0-9\-._~]$/;

const SPEC_FIELDS = new Set(['selector', 'action', 'from', 'to']);
const FROM_FIELDS = new Set(['serviceAccounts', 'namespaces']);
const TO_FIELDS = new Set(['ports', 'methods', 'paths']);

interface Found { problems: string[]; warnings: string[] }

function literalDotWarning(at: string, v: string, f: Found): void {
  if (v.includes('.*')) f.warnings.push(`${at} ${JSON.stringify(v)}: wildcards are literal globs, not regular expressions: ".*" is a dot followed by any characters`);
}

export function serviceAccountProblem(v: string): string | undefined {
  if (v === '*') return undefined;
  const hint = 'write "<namespace>/<serviceaccount>" with "*" as the only wildcard (e.g. "shop/frontend", "shop/*"), or "*" for any authenticated caller';
  if (v === '') return `an empty service account: ${hint}`;
  if (v.startsWith('spiffe://')) return `${JSON.stringify(v)} is a SPIFFE ID: ${hint}`;
  if (REGEX_CHARS.test(v)) return `${JSON.stringify(v)} looks like a regular expression; wildcards are literal globs: ${hint}`;
  const parts = v.split('/');
  if (parts.length !== 2) return `${JSON.stringify(v)} is not "<namespace>/<serviceaccount>": ${hint}`;
  const [ns = '', sa = ''] = parts;
  if (/[A-Z]/.test(v)) return `${JSON.stringify(v)} has upper-case letters, which no namespace or service account has: ${hint}`;
  if (!NAMESPACE_GLOB.test(ns)) return `${JSON.stringify(v)}: the namespace part ${JSON.stringify(ns)} is not a namespace name (a DNS-1123 label, "*" allowed)`;
  if (!SA_GLOB.test(sa)) return `${JSON.stringify(v)}: the service account part ${JSON.stringify(sa)} is not a service account name (a DNS-1123 subdomain, "*" allowed)`;
  return undefined;
}

export function namespaceProblem(v: string): string | undefined {
  if (v === '') return 'an empty namespace: write a namespace name, "shop-*", or "*" for any authenticated caller';
  if (REGEX_CHARS.test(v)) return `${JSON.stringify(v)} looks like a regular expression; wildcards are literal globs ("*" only)`;
  if (!NAMESPACE_GLOB.test(v)) return `${JSON.stringify(v)} is not a namespace name (a DNS-1123 label: lower case, digits, "-", up to 63; "*" allowed)`;
  return undefined;
}

export function methodProblem(v: string): string | undefined {
  if (v === '') return 'an empty method';
  if (v === '*') return 'methods have no wildcard ("*" would be compared as a method named "*"): leave out methods for any method';
  if (v.length > MAX_METHOD_LENGTH) return `method ${JSON.stringify(v.slice(0, 40))}… is longer than ${MAX_METHOD_LENGTH}`;
  if (/[a-z]/.test(v) && METHOD.test(v.toUpperCase())) return `method ${JSON.stringify(v)}: write it in upper case (${JSON.stringify(v.toUpperCase())}); requests are compared after upper-casing`;
  if (!METHOD.test(v)) return `method ${JSON.stringify(v)} is not an HTTP method token (letters, digits and !#$%&'*+-.^_\`|~; no spaces or wildcards)`;
  return undefined;
}

/** A path in the form the sidecar matches: "*", or "/..." normalised, with "*" only as a trailing "/*". */
export function pathProblem(v: string): string | undefined {
  const q = JSON.stringify(v);
  if (v === '*') return undefined;
  if (v.length > MAX_PATH_LENGTH) return `path ${JSON.stringify(v.slice(0, 40))}… is longer than ${MAX_PATH_LENGTH}`;
  if (!v.startsWith('/')) return `path ${q} does not start with "/" (write "/orders", "/orders/*", or "*" for any path)`;
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u0020\u007f]/.test(v)) return `path ${q} has a space, NUL or control character, which no request path may have`;
  if (/[^\u0020-\u007e]/.test(v)) return `path ${q} has a character outside ASCII; requests carry it percent-encoded (UTF-8, upper-case hex: "/caf%C3%A9"), so write it that way`;
  if (/[?#]/.test(v)) return `path ${q} has a query or fragment; paths are matched without them`;
  if (v.includes(';')) return `path ${q} has ";": parameters are not part of the path a decision uses`;
  if (v.includes('\\')) return `path ${q} has a backslash, which the sidecar refuses in requests (400)`;
  const star = v.indexOf('*');
  if (star !== -1 && !(star === v.length - 1 && v.endsWith('/*'))) return `path ${q}: "*" is allowed only as a trailing "/*" (prefix) or as the whole path; it is not a glob or regular expression inside a path`;
  const body = star === -1 ? v : v.slice(0, -1);
  for (let i = body.indexOf('%'); i !== -1; i = body.indexOf('%', i + 1)) {
    const hex = body.slice(i + 1, i + 3);
    if (!/^[0-9A-Fa-f]{2}$/.test(hex)) return `path ${q} has an invalid escape at "${body.slice(i, i + 3)}"`;
    if (hex !== hex.toUpperCase()) return `path ${q}: write escapes in upper case ("%${hex.toUpperCase()}"), as the normalised path has them`;
    const ch = String.fromCharCode(parseInt(hex, 16));
    if (UNRESERVED.test(ch)) return `path ${q}: "%${hex}" is "${ch}", which requests are matched decoded; write "${ch}"`;
    if (hex === '2F' || hex === '5C') return `path ${q}: an encoded "/" or "\\" (%${hex}) never reaches a decision (the sidecar refuses such requests with 400)`;
    if (parseInt(hex, 16) < 0x20 || hex === '7F') return `path ${q}: "%${hex}" is a control character, which the sidecar refuses in requests (400)`;
  }
  if (body.includes('//')) return `path ${q} has "//"; requests are matched with duplicate slashes merged, so write it with single slashes`;
  const segments = body.split('/');
  if (segments.some((s) => s === '.' || s === '..')) return `path ${q} has a "." or ".." segment; requests are matched with dot segments removed, so write the path they resolve to`;
  return undefined;
}

/** A list field: absent, or a non-empty list of `elem` (each checked); problems name `at`. */
function list(v: unknown, at: string, max: number, f: Found, elem: (x: unknown, at: string) => boolean): unknown[] | undefined {
  if (v === undefined) return undefined;
  if (!Array.isArray(v)) { f.problems.push(`${at} must be a list`); return undefined; }
  if (v.length === 0) { f.problems.push(`${at} is an empty list; leave the field out instead, or name at least one`); return undefined; }
  if (v.length > max) f.problems.push(`${at} has ${v.length} items; at most ${max}`);
  return v.filter((x, i) => elem(x, `${at}[${i}]`));
}

function stringElem(check: (s: string) => string | undefined, f: Found, warnDots: boolean) {
  return (x: unknown, at: string): boolean => {
    if (typeof x !== 'string') { f.problems.push(`${at} must be a string`); return false; }
    const p = check(x);
    if (p) { f.problems.push(`${at}: ${p}`); return false; }
    if (warnDots) literalDotWarning(at, x, f);
    return true;
  };
}

function unknownFields(o: Record<string, unknown>, known: Set<string>, at: string, f: Found): void {
  for (const k of Object.keys(o)) if (!known.has(k)) f.problems.push(`${at}.${k} is not a field (${[...known].join(', ')})`);
}

function sources(v: unknown, f: Found): discovery.Source[] {
  const entries = list(v, 'spec.from', MAX_FROM, f, (x, at) => {
    if (!isRecord(x)) { f.problems.push(`${at} must be an object {serviceAccounts, namespaces}`); return false; }
    unknownFields(x, FROM_FIELDS, at, f);
    if (x.serviceAccounts === undefined && x.namespaces === undefined) { f.problems.push(`${at} is empty, which would mean any source; name serviceAccounts or namespaces, or leave out spec.from for any source`); return false; }
    return true;
  }) as Record<string, unknown>[] | undefined;
  return (entries ?? []).map((e, i) => ({
    serviceAccounts: (list(e.serviceAccounts, `spec.from[${i}].serviceAccounts`, MAX_SERVICE_ACCOUNTS, f, stringElem(serviceAccountProblem, f, true)) ?? []) as string[],
    namespaces: (list(e.namespaces, `spec.from[${i}].namespaces`, MAX_NAMESPACES, f, stringElem(namespaceProblem, f, false)) ?? []) as string[],
  }));
}

function destinations(v: unknown, f: Found): discovery.Destination[] {
  const entries = list(v, 'spec.to', MAX_TO, f, (x, at) => {
    if (!isRecord(x)) { f.problems.push(`${at} must be an object {ports, methods, paths}`); return false; }
    unknownFields(x, TO_FIELDS, at, f);
    if (x.ports === undefined && x.methods === undefined && x.paths === undefined) { f.problems.push(`${at} is empty, which would mean anything; name ports, methods or paths, or leave out spec.to for everything`); return false; }
    return true;
  }) as Record<string, unknown>[] | undefined;
  return (entries ?? []).map((e, i) => ({
    ports: (list(e.ports, `spec.to[${i}].ports`, MAX_PORTS, f, (x, at) => {
      if (typeof x !== 'number' || !Number.isInteger(x) || x < 1 || x > 65535) { f.problems.push(`${at}: ${JSON.stringify(x)} is not a port (an integer from 1 to 65535)`); return false; }
      return true;
    }) ?? []) as number[],
    methods: (list(e.methods, `spec.to[${i}].methods`, MAX_METHODS, f, stringElem(methodProblem, f, false)) ?? []) as string[],
    paths: (list(e.paths, `spec.to[${i}].paths`, MAX_PATHS, f, stringElem(pathProblem, f, false)) ?? []) as string[],
  }));
}

/** Action as written → the intent an invalid object is judged by (anything but Allow counts as Deny). */
function actionOf(v: unknown, f: Found): 'Allow' | 'Deny' {
  if (v === 'Allow' || v === 'Deny') return v;
  if (v === undefined) f.problems.push('spec.action is missing: write Allow or Deny');
  else f.problems.push(`spec.action ${JSON.stringify(v)} is not Allow or Deny (exact case)`);
  return typeof v === 'string' && v.toLowerCase() === 'allow' ? 'Allow' : 'Deny';
}

/** The verdict on one stored TrafficPermission: problems, warnings, and the rule to send. */
export function validateTrafficPermission(o: TrafficPermissionObject): Verdict {
  const namespace = o.metadata?.namespace ?? '';
  const name = o.metadata?.name ?? '';
  const generation = typeof o.metadata?.generation === 'number' ? o.metadata.generation : undefined;
  const f: Found = { problems: [], warnings: [] };
  const spec = o.spec;
  let action: 'Allow' | 'Deny' = 'Deny';
  let from: discovery.Source[] = [];
  let to: discovery.Destination[] = [];
  let selector = SELECT_ALL;
  if (!isRecord(spec)) {
    f.problems.push('spec is missing or not an object');
  } else {
    unknownFields(spec, SPEC_FIELDS, 'spec', f);
    const sel = parseSelector(spec.selector);
    f.problems.push(...sel.problems);
    selector = sel.selector;
    action = actionOf(spec.action, f);
    from = sources(spec.from, f);
    to = destinations(spec.to, f);
  }
  const effect: Effect = f.problems.length === 0 ? 'enforced' : action === 'Allow' ? 'allow-nothing' : 'deny-all';
  // Sorted labels: the same selector written in another order gives the same snapshot bytes.
  const selectorMatchLabels = Object.fromEntries(Object.entries(selector.matchLabels).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
  const base = { name, namespace, selectorMatchLabels };
  const wire: discovery.TrafficPermission =
    effect === 'enforced' ? { ...base, action: action === 'Allow' ? Action.ACTION_ALLOW : Action.ACTION_DENY, from, to }
      : effect === 'deny-all' ? { ...base, action: Action.ACTION_DENY, from: [], to: [] }
        : { ...base, action: Action.ACTION_ALLOW, from: [], to: [{ ports: [0], methods: [], paths: [] }] };
  return { namespace, name, generation, problems: f.problems, warnings: f.warnings, effect, selector, wire };
}
