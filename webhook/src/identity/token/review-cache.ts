// A short-lived memory of positive TokenReviews, so that a renewal storm (every sidecar of a node
// restarting at once, a Certify and a Discovery.Watch with the same token) costs the API server one
// review per token, not one per request. Keyed by SHA-256 of the token: the token itself is never kept.
// Only successes are remembered (a refused token is reviewed again: it may have been a transient
// failure), for at most `ttlMs` and never past the token's own exp. Bounded: the oldest entry goes first.
import { createHash } from 'node:crypto';

export const REVIEW_CACHE_TTL_MS = 30_000;
export const REVIEW_CACHE_MAX_ENTRIES = 10_000;

export const tokenHash = (token: string): string => createHash('sha256').update(token, 'utf8').digest('hex');

export class ReviewCache<T> {
  private readonly entries = new Map<string, { value: T; until: number }>();

  constructor(private readonly ttlMs = REVIEW_CACHE_TTL_MS, private readonly maxEntries = REVIEW_CACHE_MAX_ENTRIES) {}

  get(key: string, now: number): T | undefined {
    const e = this.entries.get(key);
    if (e === undefined) return undefined;
    if (now >= e.until) {
      this.entries.delete(key);
      return undefined;
    }
    return e.value;
  }

  /** `expMs`: the token's own expiry if known (the entry never outlives it). */
  set(key: string, value: T, now: number, expMs: number | undefined): void {
    const until = Math.min(now + this.ttlMs, expMs ?? Number.POSITIVE_INFINITY);
    if (until <= now) return;
    this.entries.delete(key);
    this.entries.set(key, { value, until });
    while (this.entries.size > this.maxEntries) {
      const oldest = this.entries.keys().next().value;
      if (oldest === undefined) break;
      this.entries.delete(oldest);
    }
  }

  get size(): number {
    return this.entries.size;
  }
}
