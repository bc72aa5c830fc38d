// The decision engine: the TrafficPermissions of one snapshot (those that select this pod; skein-cp
// compiled them) indexed once, then decided per connection and per request (DESIGN.md "Custom resources"):
//  1. a matching Deny denies;
//  2. otherwise, if any Allow selects the workload, one of them must match;
//  3. otherwise the Mesh's defaultAction.
// What the caller is (its SPIFFE ID, or none for plaintext) and the port are fixed for a connection, so
// the rules that can apply to it are filtered once per connection (`forConnection`) and a request only
// checks the method and path of those few. Everything that cannot be read as meant fails closed: it may
// only deny more (an unknown action is a Deny, a bad pattern in a Deny matches everything and in an
// Allow nothing, an L7 condition on an opaque connection makes an Allow never match it and is ignored
// by a Deny, which then denies on its other conditions). Deny also matches paths case-insensitively and
// with or without a trailing slash, and a Deny of GET covers HEAD: an app that routes `/ADMIN` or
// `/admin/` or HEAD as `/admin` and GET cannot be reached around a Deny. Pure; imports @skein/api types.
import type { Action, discovery } from '@skein/api';
import { compileGlobs, matchesGlobs, type GlobSet } from './glob.js';
import { normalisePath } from './path.js';

export type DecisionReason = 'deny' | 'allow' | 'no_allow_matched' | 'default' | 'no_snapshot';

export interface Decision {
  readonly allowed: boolean;
  /**
   * "<ns>/<name>" of the deciding TrafficPermission — for reason no_allow_matched the Allow that was
   * closest (the first whose sources and ports fit the caller, else the first of all) — or DEFAULT_POLICY,
   * NO_SNAPSHOT_POLICY.
   */
  readonly policy: string;
  readonly reason: DecisionReason;
}

/**
 * The proto's Action values. Not imported at run time: a value import of @skein/api loads grpc-js (its
 * generated code holds the service definitions), ~60 ms of start a standalone sidecar must not pay
 * (discovery/lazy.test.ts); policy/action.test.ts checks these against the generated enum.
 */
export const ACTION_ALLOW = 1 as Action;
export const ACTION_DENY = 2 as Action;

/** The Mesh's defaultAction decided (no TrafficPermission selects the workload). */
export const DEFAULT_POLICY = 'default';
/** The sidecar never received a snapshot: it refuses (fail closed). */
export const NO_SNAPSHOT_POLICY = 'no-snapshot';

export const NO_SNAPSHOT: Decision = Object.freeze({ allowed: false, policy: NO_SNAPSHOT_POLICY, reason: 'no_snapshot' });

interface PathSet { any: boolean; exact: ReadonlySet<string>; prefixes: readonly string[] }

interface DestEntry {
  ports: ReadonlySet<number> | null;
  methods: ReadonlySet<string> | null;
  paths: PathSet | null;
  /** Has methods or paths: an HTTP condition. */
  l7: boolean;
}

interface SourceEntry { sa: GlobSet | null; ns: GlobSet | null }

export interface CompiledRule {
  policy: string;
  deny: boolean;
  /** null = any caller, authenticated or not. */
  from: SourceEntry[] | null;
  to: DestEntry[];
  /** Problems found while compiling (the rule was made to fail closed for them). */
  problems: string[];
  allowed: Decision;
  denied: Decision;
  /** An Allow that selects the workload and that this request did not match. */
  unmatched: Decision;
  source: discovery.TrafficPermission;
}

/** The caller as a rule sees it: undefined = unauthenticated (plaintext). */
export interface Caller { id: string; namespace?: string; serviceAccount?: string }

/** spiffe://<td>/ns/<ns>/sa/<sa> → its namespace and service account (mtls/ already verified the ID). */
export function callerOf(spiffeId: string | undefined): Caller | undefined {
  if (spiffeId === undefined) return undefined;
  const m = /^spiffe:\/\/[^/]+\/ns\/([^/]+)\/sa\/([^/]+)$/.exec(spiffeId);
  return m ? { id: spiffeId, namespace: m[1] as string, serviceAccount: m[2] as string } : { id: spiffeId };
}

function compilePaths(patterns: readonly string[], deny: boolean, problems: string[]): PathSet | null {
  if (patterns.length === 0) return null;
  let any = false;
  const exact = new Set<string>();
  const prefixes: string[] = [];
  const fold = (p: string): string => (deny ? foldForDeny(p) : p);
  for (const p of patterns) {
    if (p === '*') { any = true; continue; }
    const prefix = p.endsWith('/*');
    const base = prefix ? p.slice(0, -2) || '/' : p;
    const n = base.includes('*') || base.includes('?') || base.includes('#') ? undefined : normalisePath(base);
    if (!n?.ok) {
      problems.push(`path ${JSON.stringify(p)} is not a valid pattern`);
      if (deny) any = true; // a Deny that cannot be read denies everything it selects
      continue;
    }
    if (!prefix) exact.add(fold(n.path));
    else prefixes.push(n.path === '/' ? '/' : `${deny ? foldForDeny(n.path) : n.path}/`);
  }
  return { any, exact, prefixes };
}

/** Deny compares case-insensitively and without a trailing slash. */
function foldForDeny(path: string): string {
  const lower = path.toLowerCase();
  return lower.length > 1 && lower.endsWith('/') ? lower.slice(0, -1) : lower;
}

function compileDest(d: discovery.Destination, deny: boolean, problems: string[]): DestEntry | undefined {
  let ports: Set<number> | null = null;
  if (d.ports.length > 0) {
    ports = new Set(d.ports.filter((p) => Number.isInteger(p) && p >= 1 && p <= 65535));
    if (ports.size < d.ports.length) problems.push('ports out of range ignored');
    if (ports.size === 0) {
      if (!deny) return undefined;
      ports = null;
    }
  }
  let methods: Set<string> | null = null;
  if (d.methods.length > 0) {
    methods = new Set(d.methods.filter((m) => m !== '').map((m) => m.toUpperCase()));
    if (deny && methods.has('GET')) methods.add('HEAD');
    if (methods.size === 0) {
      if (!deny) return undefined;
      methods = null;
    }
  }
  const paths = compilePaths(d.paths, deny, problems);
  if (paths && !deny && !paths.any && paths.exact.size === 0 && paths.prefixes.length === 0) return undefined;
  return { ports, methods, paths, l7: d.methods.length > 0 || d.paths.length > 0 };
}

export function compileRule(p: discovery.TrafficPermission): CompiledRule {
  const policy = `${p.namespace}/${p.name}`;
  const problems: string[] = [];
  let deny = p.action === ACTION_DENY;
  if (p.action !== ACTION_ALLOW && p.action !== ACTION_DENY) {
    problems.push(`unknown action ${String(p.action)}: treated as Deny`);
    deny = true;
  }
  let from: SourceEntry[] | null = null;
  if (p.from.length > 0) {
    from = [];
    for (const s of p.from) {
      if (s.serviceAccounts.length === 0 && s.namespaces.length === 0) {
        problems.push('an empty from entry: it matches every caller in a Deny and none in an Allow');
        if (deny) { from = null; break; }
        continue;
      }
      from.push({
        sa: s.serviceAccounts.length > 0 ? compileGlobs(s.serviceAccounts) : null,
        ns: s.namespaces.length > 0 ? compileGlobs(s.namespaces) : null,
      });
    }
  }
  let to: DestEntry[];
  if (p.to.length === 0) {
    to = [{ ports: null, methods: null, paths: null, l7: false }];
  } else {
    to = [];
    for (const d of p.to) {
      const entry = compileDest(d, deny, problems);
      if (entry) to.push(entry);
    }
  }
  return {
    policy, deny, from, to, problems,
    allowed: Object.freeze({ allowed: true, policy, reason: 'allow' }),
    denied: Object.freeze({ allowed: false, policy, reason: 'deny' }),
    unmatched: Object.freeze({ allowed: false, policy, reason: 'no_allow_matched' }),
    source: p,
  };
}

function sourceMatches(rule: CompiledRule, caller: Caller | undefined): boolean {
  if (rule.from === null) return true;
  if (caller === undefined) return false;
  for (const s of rule.from) {
    if (caller.namespace === undefined || caller.serviceAccount === undefined) {
      // An identity that is not ns/sa: only "*" can be sure of it; a Deny takes it as matching.
      if (rule.deny || ((s.sa === null || s.sa.any) && (s.ns === null || s.ns.any))) return true;
      continue;
    }
    if (s.sa !== null && !matchesGlobs(s.sa, `${caller.namespace}/${caller.serviceAccount}`)) continue;
    if (s.ns !== null && !matchesGlobs(s.ns, caller.namespace)) continue;
    return true;
  }
  return false;
}

function allowPathMatches(set: PathSet, path: string | undefined): boolean {
  if (set.any) return true;
  // No path (CONNECT, `OPTIONS *`): an Allow with paths does not match.
  if (path === undefined) return false;
  if (set.exact.has(path)) return true;
  for (const p of set.prefixes) if (path.startsWith(p)) return true;
  return false;
}

/** The request's path as Deny rules compare it, computed once per request (lower-cased; without a trailing slash). */
interface DenyPath { lower: string; folded: string; foldedSlash: string }

function denyPathMatches(set: PathSet, path: DenyPath | undefined): boolean {
  // No path: a Deny with paths applies.
  if (set.any || path === undefined) return true;
  if (set.exact.has(path.folded)) return true;
  for (const p of set.prefixes) if (path.lower.startsWith(p) || path.foldedSlash === p) return true;
  return false;
}

function denyPathOf(path: string): DenyPath {
  const folded = foldForDeny(path);
  return { lower: path.toLowerCase(), folded, foldedSlash: `${folded}/` };
}

/** The rules that can apply to one connection (caller, port), in decision order. */
export class ConnectionRules {
  constructor(
    /** A Deny whose condition holds for every request of this connection. */
    private readonly denyAll: CompiledRule | undefined,
    private readonly denies: ReadonlyArray<{ rule: CompiledRule; entries: DestEntry[] }>,
    private readonly allowAll: CompiledRule | undefined,
    private readonly allows: ReadonlyArray<{ rule: CompiledRule; entries: DestEntry[] }>,
    /** What decides when nothing matched. */
    private readonly fallback: Decision,
  ) {}

  /**
   * An opaque (L4) connection: judged on caller and port only. Any Deny that applies denies (its HTTP
   * conditions cannot be checked, so they count as met); an Allow matches only without HTTP conditions.
   */
  l4(): Decision {
    if (this.denyAll) return this.denyAll.denied;
    const first = this.denies[0];
    if (first) return first.rule.denied;
    if (this.allowAll) return this.allowAll.allowed;
    return this.fallback;
  }

  /** One HTTP request; `method` upper-cased, `path` normalised (undefined when the target is no path). */
  request(method: string, path: string | undefined): Decision {
    if (this.denyAll) return this.denyAll.denied;
    if (this.denies.length > 0) {
      let folded: DenyPath | undefined;
      for (const d of this.denies) {
        for (const e of d.entries) {
          if (e.methods !== null && !e.methods.has(method)) continue;
          if (e.paths !== null && !denyPathMatches(e.paths, path === undefined ? undefined : (folded ??= denyPathOf(path)))) continue;
          return d.rule.denied;
        }
      }
    }
    if (this.allowAll) return this.allowAll.allowed;
    for (const a of this.allows) {
      for (const e of a.entries) {
        if (e.methods !== null && !e.methods.has(method)) continue;
        if (e.paths !== null && !allowPathMatches(e.paths, path)) continue;
        return a.rule.allowed;
      }
    }
    return this.fallback;
  }
}

const MAX_CACHED_CONNECTION_RULES = 4096;

export class PolicyIndex {
  readonly rules: readonly CompiledRule[];
  readonly defaultAllow: boolean;
  /** What decides when no rule matched and no Allow fits the caller: the first Allow, else the default. */
  readonly fallback: Decision;
  private readonly cache = new Map<string, ConnectionRules>();
  /** Rules whose every `from` entry names exact service accounts (or, without them, exact namespaces), by that name. */
  private readonly bySa = new Map<string, number[]>();
  private readonly byNs = new Map<string, number[]>();
  /** Rules for any caller, with globs or "*": checked for every caller. */
  private readonly general: number[] = [];

  constructor(policies: readonly discovery.TrafficPermission[], defaultAction: Action | undefined) {
    this.rules = policies.map(compileRule).sort((a, b) => (a.policy < b.policy ? -1 : a.policy > b.policy ? 1 : 0));
    this.defaultAllow = defaultAction !== ACTION_DENY;
    this.rules.forEach((rule, i) => this.place(rule, i));
    this.fallback = this.rules.find((r) => !r.deny)?.unmatched
      ?? Object.freeze({ allowed: this.defaultAllow, policy: DEFAULT_POLICY, reason: 'default' });
  }

  /** The rules for a caller (its SPIFFE ID, undefined = plaintext) on a port; cached per snapshot. */
  forConnection(spiffeId: string | undefined, port: number): ConnectionRules {
    const key = `${port} ${spiffeId ?? ''}`;
    let found = this.cache.get(key);
    if (found) return found;
    found = this.build(callerOf(spiffeId), port);
    if (this.cache.size >= MAX_CACHED_CONNECTION_RULES) this.cache.clear();
    this.cache.set(key, found);
    return found;
  }

  /** Files a rule under the exact names its sources need, or as general. */
  private place(rule: CompiledRule, i: number): void {
    const exact = (g: GlobSet | null): g is GlobSet => g !== null && !g.any && g.globs.length === 0;
    if (rule.from === null || !rule.from.every((s) => exact(s.sa) || (s.sa === null && exact(s.ns)))) {
      this.general.push(i);
      return;
    }
    const add = (map: Map<string, number[]>, key: string): void => {
      const list = map.get(key);
      if (!list) map.set(key, [i]);
      else if (list[list.length - 1] !== i) list.push(i);
    };
    for (const s of rule.from) {
      if (s.sa !== null) for (const sa of s.sa.exact) add(this.bySa, sa);
      else for (const ns of (s.ns as GlobSet).exact) add(this.byNs, ns);
    }
  }

  /** The rules that may select this caller, in decision order. */
  private candidates(caller: Caller | undefined): number[] {
    if (caller?.namespace === undefined || caller.serviceAccount === undefined) {
      // Unauthenticated: only rules for any caller; an odd identity: a Deny takes it as matching, so all.
      return caller === undefined ? this.general : this.rules.map((_, i) => i);
    }
    const sa = this.bySa.get(`${caller.namespace}/${caller.serviceAccount}`);
    const ns = this.byNs.get(caller.namespace);
    if (!sa && !ns) return this.general;
    return [...new Set([...this.general, ...(sa ?? []), ...(ns ?? [])])].sort((a, b) => a - b);
  }

  private build(caller: Caller | undefined, port: number): ConnectionRules {
    let denyAll: CompiledRule | undefined;
    let allowAll: CompiledRule | undefined;
    const denies: Array<{ rule: CompiledRule; entries: DestEntry[] }> = [];
    const allows: Array<{ rule: CompiledRule; entries: DestEntry[] }> = [];
    for (const i of this.candidates(caller)) {
      const rule = this.rules[i] as CompiledRule;
      if (!sourceMatches(rule, caller)) continue;
      const entries = rule.to.filter((e) => e.ports === null || e.ports.has(port));
      if (entries.length === 0) continue;
      if (rule.deny) {
        if (!denyAll && entries.some((e) => !e.l7)) denyAll = rule;
        denies.push({ rule, entries: entries.filter((e) => e.l7) });
      } else {
        if (!allowAll && entries.some((e) => !e.l7)) allowAll = rule;
        allows.push({ rule, entries: entries.filter((e) => e.l7) });
      }
    }
    return new ConnectionRules(denyAll, denies, allowAll, allows, allows[0]?.rule.unmatched ?? this.fallback);
  }
}
