// The endpoint choice for one Service port (docs/dataplane.md "Load balancing"). A Balancer is built once
// per discovery snapshot; what lasts longer than a snapshot (the in-flight count of an endpoint) lives in
// an EndpointLoad shared through a LoadTable, so an endpoint that stays keeps its counter.
//
// The interface the resilience code calls: pick(key, exclude) with `exclude` saying which endpoints must
// not be chosen (already failed in this request's retry loop, or ejected); start()/release() around a
// request (HTTP) or a connection (TCP) for least-request.

/** What a balancer needs of an endpoint. */
export interface Balanced {
  /** `host:port`, stable across snapshots. */
  readonly key: string;
  /** 1-1000 (weighted round robin). */
  readonly weight: number;
  readonly load: EndpointLoad;
}

/** Outstanding requests (HTTP) or open connections (TCP) to one endpoint. */
export interface EndpointLoad { inFlight: number }

/** True for an endpoint that must not be picked. */
export type Exclude<E> = (endpoint: E) => boolean;

export interface Balancer<E extends Balanced> {
  readonly endpoints: readonly E[];
  /**
   * The endpoint for one request or connection, undefined when every endpoint is excluded. `key` is the
   * hash key (header or cookie value, source IP) for consistent hashing, ignored by the others; a hashing
   * balancer without a key picks round robin.
   */
  pick(key: string | undefined, exclude?: Exclude<E>): E | undefined;
}

/** Counts one request/connection to an endpoint; call release() exactly once when it ends. */
export function start(endpoint: Balanced): void { endpoint.load.inFlight++; }
export function release(endpoint: Balanced): void { if (endpoint.load.inFlight > 0) endpoint.load.inFlight--; }

/**
 * The endpoints' counters by key, kept across snapshots: `prune()` after a snapshot drops the entries of
 * endpoints no longer present (their pending releases still decrement the object they hold).
 */
export class LoadTable {
  private readonly loads = new Map<string, EndpointLoad>();
  get(key: string): EndpointLoad {
    let load = this.loads.get(key);
    if (!load) { load = { inFlight: 0 }; this.loads.set(key, load); }
    return load;
  }
  prune(keep: ReadonlySet<string>): void {
    for (const key of this.loads.keys()) if (!keep.has(key)) this.loads.delete(key);
  }
  get size(): number { return this.loads.size; }
}

export const DEFAULT_WEIGHT = 100;

/** The proto's weight (0 = not given) as used: 1-1000, 100 by default. */
export function effectiveWeight(weight: number): number {
  if (!Number.isInteger(weight) || weight <= 0) return DEFAULT_WEIGHT;
  return Math.min(weight, 1000);
}
