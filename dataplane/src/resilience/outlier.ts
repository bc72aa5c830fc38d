// Passive health checking for one Service port: an endpoint that fails to connect, or answers
// `consecutive5xx` (5) 5xx in a row, is ejected for base × times-ejected (30 s, 60 s, … capped at 300 s).
// Never more than `maxShare` (50 %) of the endpoints are ejected at once, and at least one endpoint always
// stays (reliability: ejection of everything turns a partial outage into a total one). The balancer skips
// endpoints for which isEjected() is true. State is per endpoint key and survives snapshots for the
// endpoints that stay (setEndpoints); times-ejected goes back to 0 after a full base interval with no failure
// since the last ejection ended.

export interface OutlierOptions {
  consecutive5xx?: number;
  baseEjectionMs?: number;
  maxEjectionMs?: number;
  /** Highest share of the endpoints ejected at once (0.5 = 50 %); at least one endpoint is always kept. */
  maxEjectedShare?: number;
}

export type Failure = 'connect' | '5xx';

interface EndpointHealth {
  consecutive5xx: number;
  timesEjected: number;
  /** 0 = not ejected. */
  ejectedUntil: number;
  lastFailure: number;
}

export class OutlierDetector {
  private readonly consecutive5xx: number;
  private readonly baseMs: number;
  private readonly maxMs: number;
  private readonly maxShare: number;
  private readonly health = new Map<string, EndpointHealth>();
  private ejected = 0;

  constructor(options: OutlierOptions = {}) {
    this.consecutive5xx = options.consecutive5xx ?? 5;
    this.baseMs = options.baseEjectionMs ?? 30_000;
    this.maxMs = options.maxEjectionMs ?? 300_000;
    this.maxShare = options.maxEjectedShare ?? 0.5;
  }

  /** A new snapshot's endpoints: those that stay keep their state, removed ones are forgotten. */
  setEndpoints(keys: Iterable<string>): void {
    const keep = new Set(keys);
    for (const key of this.health.keys()) if (!keep.has(key)) this.health.delete(key);
    for (const key of keep) if (!this.health.has(key)) this.health.set(key, { consecutive5xx: 0, timesEjected: 0, ejectedUntil: 0, lastFailure: 0 });
    this.ejected = 0;
    for (const h of this.health.values()) if (h.ejectedUntil !== 0) this.ejected++;
  }

  /** A response below 500 (or a 5xx not counted): the 5xx streak ends. */
  success(key: string): void {
    const h = this.health.get(key);
    if (h) h.consecutive5xx = 0;
  }

  /** Records a failure; true when it ejected the endpoint. */
  failure(key: string, kind: Failure, now = Date.now()): boolean {
    const h = this.health.get(key);
    if (!h || this.isEjected(key, now)) return false;
    if (h.ejectedUntil === 0 && h.timesEjected > 0 && now - h.lastFailure > this.baseMs) h.timesEjected = 0;
    h.lastFailure = now;
    if (kind === '5xx' && ++h.consecutive5xx < this.consecutive5xx) return false;
    h.consecutive5xx = 0;
    if (!this.mayEject()) return false;
    h.timesEjected++;
    h.ejectedUntil = now + Math.min(this.maxMs, this.baseMs * h.timesEjected);
    this.ejected++;
    return true;
  }

  /** The balancer's exclude filter (balance/types.ts Exclude): one function per detector, none per request. */
  readonly excludeEjected = (endpoint: { readonly key: string }): boolean => this.isEjected(endpoint.key);

  /** True while `key` is ejected; an ejection whose time is over ends here. */
  isEjected(key: string, now = Date.now()): boolean {
    const h = this.health.get(key);
    if (!h || h.ejectedUntil === 0) return false;
    if (now < h.ejectedUntil) return true;
    h.ejectedUntil = 0;
    h.lastFailure = now;
    this.ejected--;
    return false;
  }

  /** How long `key` is ejected for from now (0 = not ejected); for logs and tests. */
  remainingMs(key: string, now = Date.now()): number {
    return this.isEjected(key, now) ? (this.health.get(key) as EndpointHealth).ejectedUntil - now : 0;
  }

  private mayEject(): boolean {
    const n = this.health.size;
    const allowed = Math.min(Math.floor(n * this.maxShare), n - 1);
    return this.ejected + 1 <= allowed;
  }
}
