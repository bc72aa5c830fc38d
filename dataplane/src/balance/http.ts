// Per-request balancing of one client HTTP connection (outbound to a Service): each request picks its
// endpoint from the Service port's balancer and goes to that endpoint's pooled (mTLS) connections, so a
// client holding one keep-alive connection still spreads its requests. The balancer is the current
// snapshot's (asked per request: a long-lived connection follows scale up/down). The connection's target and
// logger are swapped per request (http/server.ts calls apply() before it builds the Exchange); the
// endpoint's Target and child logger are made once per connection, endpoint and snapshot, not per request.
//
// For the resilience code: pick(req, exclude) is the choice without side effects (the retry loop calls it
// with the endpoints that failed and the ejected ones excluded); isExcluded, when set, is applied to
// every pick (the ejection filter).
import type http from 'node:http';
import type { Logger } from 'pino';
import type { Target } from '../tcp/forward.js';
import { cookieValue, type PortBalancer } from './index.js';
import { release, start, type Balanced, type Exclude } from './types.js';

/** What apply() changes: the HttpConnection of http/server.ts. */
export interface BalancedConnection { target: Target; log: Logger }

export interface Resolved { readonly target: Target; readonly log: Logger }

const kPicked = Symbol('skein.balance.picked');
type Tracked = http.ServerResponse & { [kPicked]?: Balanced };

function onResponseClose(this: Tracked): void {
  const picked = this[kPicked];
  if (picked) { this[kPicked] = undefined; release(picked); }
}

export class RequestBalancer<E extends Balanced> {
  private readonly resolved = new Map<E, Resolved>();
  private resolvedFor: PortBalancer<E> | undefined;
  /** Set by resilience: endpoints that must not be picked (ejected). */
  isExcluded: Exclude<E> | undefined;
  /** Names the Service port for its retry budget (resilience/retry-dispatch.ts); undefined = no retries. */
  retryKey: string | undefined;
  /**
   * The endpoint picked for the connection at accept (outbound/mesh.ts routes it before it knows the
   * protocol): the first request takes it instead of picking again. Picking twice per connection moved
   * a round robin two steps per new connection, so a client opening a connection per request never
   * reached every other endpoint (with two endpoints: only one of them).
   */
  first: E | undefined;

  constructor(
    /** The Service port's balancer in the current snapshot (undefined: the Service is gone). */
    private readonly current: () => PortBalancer<E> | undefined,
    private readonly sourceIp: string | undefined,
    private readonly resolve: (endpoint: E) => Resolved,
  ) {}

  /** The hash key of a request for a balancer (undefined → round robin). */
  keyOf(balancer: PortBalancer<E>, req: http.IncomingMessage): string | undefined {
    const on = balancer.hashOn;
    switch (on.kind) {
      case 'none': return undefined;
      case 'header': {
        const v = req.headers[on.name];
        return Array.isArray(v) ? v[0] : v;
      }
      case 'cookie': return cookieValue(req.headers.cookie, on.name);
      case 'source-ip': return this.sourceIp;
    }
  }

  /** The endpoint for req (no counting), skipping `exclude` and the ejection filter. */
  pick(req: http.IncomingMessage, exclude?: Exclude<E>): E | undefined {
    const balancer = this.current();
    return balancer ? this.pickFrom(balancer, req, exclude) : undefined;
  }

  private pickFrom(balancer: PortBalancer<E>, req: http.IncomingMessage, exclude?: Exclude<E>): E | undefined {
    const ejected = this.isExcluded;
    const filter = exclude && ejected ? (e: E): boolean => exclude(e) || ejected(e) : exclude ?? ejected;
    const key = this.keyOf(balancer, req);
    const picked = balancer.pick(key, filter);
    if (picked || !ejected) return picked;
    // Never none because of ejection: with every endpoint filtered out, the ejection filter is ignored.
    return balancer.pick(key, exclude);
  }

  /** Target and logger of an endpoint for this connection (made once per snapshot). */
  resolvedOf(endpoint: E, balancer = this.current()): Resolved {
    if (balancer !== this.resolvedFor) { this.resolved.clear(); this.resolvedFor = balancer; }
    let r = this.resolved.get(endpoint);
    if (!r) { r = this.resolve(endpoint); this.resolved.set(endpoint, r); }
    return r;
  }

  /**
   * Picks the endpoint of one request, points conn at it and counts the request in flight until the
   * response closes. Returns the endpoint (undefined: conn left as it was).
   */
  apply(req: http.IncomingMessage, res: http.ServerResponse, conn: BalancedConnection): E | undefined {
    const balancer = this.current();
    const first = this.first;
    this.first = undefined;
    // A header or cookie hash needs the request: only the connection-level choices carry over.
    const reuse = first !== undefined && balancer !== undefined && (balancer.hashOn.kind === 'none' || balancer.hashOn.kind === 'source-ip') && !this.isExcluded?.(first);
    const endpoint = balancer && (reuse ? first : this.pickFrom(balancer, req));
    if (!endpoint) return undefined;
    const r = this.resolvedOf(endpoint, balancer);
    conn.target = r.target;
    conn.log = r.log;
    start(endpoint);
    (res as Tracked)[kPicked] = endpoint;
    res.once('close', onResponseClose);
    return endpoint;
  }

  /**
   * A retry (resilience/retry-dispatch.ts): picks another endpoint for the request, skipping the ones that
   * failed it, points conn at it and moves the in-flight count there. Undefined: no other endpoint.
   */
  reapply(req: http.IncomingMessage, res: http.ServerResponse, conn: BalancedConnection, failed: ReadonlySet<E>): E | undefined {
    const balancer = this.current();
    const endpoint = balancer && this.pickFrom(balancer, req, (e) => failed.has(e));
    if (!endpoint) return undefined;
    const r = this.resolvedOf(endpoint, balancer);
    conn.target = r.target;
    conn.log = r.log;
    const previous = (res as Tracked)[kPicked];
    if (previous) release(previous);
    start(endpoint);
    (res as Tracked)[kPicked] = endpoint;
    return endpoint;
  }

  /** The endpoint the request is on now (set by apply / reapply). */
  pickedFor(res: http.ServerResponse): E | undefined {
    return (res as Tracked)[kPicked] as E | undefined;
  }
}
