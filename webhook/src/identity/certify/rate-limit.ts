// A token bucket per key (the caller's SPIFFE ID): `burst` requests at once, then `perMinute` a minute.
// A healthy sidecar asks once at start and once per renewal (about twice a day with the 24 h default);
// a crash-looping or misbehaving one is held to the refill rate instead of keeping the CA busy.
// Idle buckets are forgotten once full again, so the map holds only identities that asked recently.

export const CERTIFY_BURST = 5;
export const CERTIFY_PER_MINUTE = 10;

export interface RateDecision { readonly allowed: boolean; /** When not allowed: seconds until one token is back. */ readonly retryAfterSeconds: number }

export class RateLimiter {
  private readonly buckets = new Map<string, { tokens: number; at: number }>();
  private readonly perMs: number;

  constructor(private readonly burst = CERTIFY_BURST, perMinute = CERTIFY_PER_MINUTE, private readonly now: () => number = Date.now) {
    this.perMs = perMinute / 60_000;
  }

  take(key: string): RateDecision {
    const t = this.now();
    const b = this.buckets.get(key) ?? { tokens: this.burst, at: t };
    b.tokens = Math.min(this.burst, b.tokens + (t - b.at) * this.perMs);
    b.at = t;
    if (b.tokens >= 1) {
      b.tokens -= 1;
      this.buckets.set(key, b);
      this.sweep(t);
      return { allowed: true, retryAfterSeconds: 0 };
    }
    this.buckets.set(key, b);
    return { allowed: false, retryAfterSeconds: Math.ceil((1 - b.tokens) / this.perMs / 1000) };
  }

  /** Drops buckets that have refilled completely (an unknown key starts full: same thing). */
  private sweep(t: number): void {
    if (this.buckets.size < 1024) return;
    for (const [k, b] of this.buckets) {
      if (b.tokens + (t - b.at) * this.perMs >= this.burst) this.buckets.delete(k);
    }
  }

  get size(): number {
    return this.buckets.size;
  }
}
