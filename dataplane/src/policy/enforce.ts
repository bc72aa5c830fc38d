// Enforcement on the inbound side: one InboundAuthz per inbound listener, one ConnectionAuthz per
// accepted connection (its caller and port are known once mTLS is done). The rules a connection can
// meet are looked up once per connection and snapshot (PolicyIndex.forConnection), so a request pays
// the path normalisation and a few set lookups. Open opaque TCP connections, WebSockets and tunnels
// are tracked: when a new snapshot arrives each is judged again and closed if no longer allowed
// (envoy#14504: a revoke must cut what is open). May import discovery/ types, metrics, policy/.
import type { Logger } from 'pino';
import type { DiscoveryProvider, MeshView } from '../discovery/index.js';
import { counterChild, type CounterChild, type Metrics } from '../metrics/index.js';
import { normaliseTarget, type PathProblem } from './path.js';
import { NO_SNAPSHOT, PolicyIndex, type ConnectionRules, type Decision } from './rules.js';

const indexes = new WeakMap<MeshView, PolicyIndex>();

/** The policy index of a discovery view, built once per snapshot. */
export function policyIndexOf(view: MeshView): PolicyIndex {
  let index = indexes.get(view);
  if (!index) {
    index = new PolicyIndex(view.snapshot.policies ?? [], view.snapshot.mesh?.defaultAction);
    indexes.set(view, index);
  }
  return index;
}

export type RequestVerdict =
  | { kind: 'allow'; decision: Decision; /** What the app receives: normalised path + query. */ target: string; path: string | undefined }
  | { kind: 'deny'; decision: Decision; path: string | undefined; /** The normalised target, for the log line. */ target: string }
  | { kind: 'bad'; problem: PathProblem };

/** The label series are bounded: policy names come from skein-cp, but churn must not grow them forever. */
const MAX_POLICY_LABELS = 1000;

interface Tracked { conn: ConnectionAuthz; recheck: (rules: ConnectionRules | undefined) => Decision; close: () => void; what: string }

export class InboundAuthz {
  private readonly tracked = new Set<Tracked>();
  private readonly children = new WeakMap<Decision, CounterChild>();
  private readonly labels = new Set<string>();
  private readonly unsubscribe: () => void;

  constructor(readonly discovery: DiscoveryProvider, private readonly metrics: Metrics, private readonly log: Logger) {
    // Built as the snapshot arrives (not by its first request), then every open stream is judged again.
    this.unsubscribe = discovery.onChange((view) => {
      policyIndexOf(view);
      this.revoke();
    });
  }

  connection(peer: string | undefined, port: number, log: Logger): ConnectionAuthz {
    return new ConnectionAuthz(this, peer, port, log);
  }

  /** Counts one decision (outcome allowed, denied or revoked). */
  count(decision: Decision, outcome?: 'revoked'): void {
    if (outcome === undefined) {
      let child = this.children.get(decision);
      if (!child) this.children.set(decision, child = this.child(decision.policy, decision.allowed ? 'allowed' : 'denied'));
      child.inc();
      return;
    }
    this.child(decision.policy, outcome).inc();
  }

  private child(policy: string, outcome: string): CounterChild {
    let label = policy;
    if (!this.labels.has(policy)) {
      if (this.labels.size >= MAX_POLICY_LABELS) label = 'other';
      else this.labels.add(policy);
    }
    return counterChild(this.metrics.authzDecisions, { direction: 'inbound', policy: label, outcome });
  }

  /** Registers an open stream; returns its removal. */
  track(entry: Tracked): () => void {
    this.tracked.add(entry);
    return () => { this.tracked.delete(entry); };
  }

  /** Judges every open stream against the current snapshot; closes those no longer allowed. */
  revoke(): void {
    let closed = 0;
    for (const t of this.tracked) {
      const decision = t.recheck(t.conn.rules());
      if (decision.allowed) continue;
      this.tracked.delete(t);
      closed++;
      this.count(decision, 'revoked');
      t.conn.log.info({ source: t.conn.peer ?? 'unauthenticated', policy: decision.policy, reason: decision.reason, what: t.what },
        'open connection closed: a new policy no longer allows it');
      t.close();
    }
    if (closed > 0) this.log.info({ closed, open: this.tracked.size }, 'policies changed: connections they no longer allow were closed');
  }

  openStreams(): number {
    return this.tracked.size;
  }

  stop(): void {
    this.unsubscribe();
    this.tracked.clear();
  }
}

export class ConnectionAuthz {
  /** Weak: an idle keep-alive connection must not keep an old snapshot (its services, endpoints…) alive. */
  private view: WeakRef<MeshView> | undefined;
  private cached: ConnectionRules | undefined;

  constructor(private readonly authz: InboundAuthz, readonly peer: string | undefined, readonly port: number, readonly log: Logger) {}

  /** The rules for this connection under the current snapshot (undefined: no snapshot ever). */
  rules(): ConnectionRules | undefined {
    const view = this.authz.discovery.current();
    if (view === undefined) return undefined;
    if (this.view?.deref() !== view) {
      this.view = new WeakRef(view);
      this.cached = policyIndexOf(view).forConnection(this.peer, this.port);
    }
    return this.cached;
  }

  /** An opaque connection, before any upstream dial. Not counted yet: see recordConnection. */
  decideConnection(): Decision {
    return this.rules()?.l4() ?? NO_SNAPSHOT;
  }

  /** Counts the decision of an opaque connection; a denial is logged. */
  recordConnection(decision: Decision): void {
    this.authz.count(decision);
    if (!decision.allowed) {
      this.log.info({ source: this.peer ?? 'unauthenticated', policy: decision.policy, reason: decision.reason }, 'connection denied');
    }
  }

  /**
   * One HTTP request: its target normalised (400 when ambiguous) and decided on method and path.
   * `opaqueAfter`: the rest of the connection will be a tunnel (CONNECT, a non-WebSocket upgrade) that
   * no request decision can see into, so it must also pass as an opaque connection.
   */
  request(rawMethod: string, url: string, opaqueAfter = false): RequestVerdict {
    const method = rawMethod.toUpperCase();
    let path: string | undefined;
    let target = url;
    if (method === 'CONNECT' || url === '*') {
      path = undefined;
    } else {
      const n = normaliseTarget(url);
      if (!n.ok) return { kind: 'bad', problem: n.problem };
      path = n.path;
      target = n.target;
    }
    const decision = decideRequest(this.rules(), method, path, opaqueAfter);
    this.authz.count(decision);
    return decision.allowed ? { kind: 'allow', decision, target, path } : { kind: 'deny', decision, path, target };
  }

  /** Keeps an opaque connection under watch: closed when a new snapshot no longer allows it. */
  trackConnection(close: () => void): () => void {
    return this.authz.track({ conn: this, recheck: (rules) => rules?.l4() ?? NO_SNAPSHOT, close, what: 'tcp' });
  }

  /** Keeps a WebSocket (or a tunnel) under watch, judged again as the request that opened it. */
  trackRequest(method: string, path: string | undefined, opaqueAfter: boolean, close: () => void): () => void {
    return this.authz.track({
      conn: this, recheck: (rules) => decideRequest(rules, method, path, opaqueAfter), close, what: opaqueAfter ? 'tunnel' : 'websocket',
    });
  }
}

function decideRequest(rules: ConnectionRules | undefined, method: string, path: string | undefined, opaqueAfter: boolean): Decision {
  if (!rules) return NO_SNAPSHOT;
  const decision = rules.request(method, path);
  if (!decision.allowed || !opaqueAfter) return decision;
  const l4 = rules.l4();
  return l4.allowed ? decision : l4;
}

/** The 403 body of a denied request: names the deciding policy and why (deny, no_allow_matched, default, no_snapshot). */
export function deniedBody(decision: Decision): string {
  return `${JSON.stringify({ error: 'denied', policy: decision.policy, reason: decision.reason })}\n`;
}
