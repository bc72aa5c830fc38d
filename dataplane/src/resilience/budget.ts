// The retry budget (reliability: retry storms). Retries may add at most `ratio` (20 %) to the requests of
// the last `windowMs` (10 s), plus `minPerSecond` (3/s) so that a quiet upstream can still be retried.
// When an upstream fails for everyone, the budget runs out and failures are answered instead of multiplied.
// Counts live in one ring of per-second buckets per budget (per Service port, not per request): O(1) per
// request, no allocation after construction.

export interface RetryBudgetOptions {
  /** Retries allowed per request over the window (0.2 = 20 %). */
  ratio?: number;
  windowMs?: number;
  /** Retries always allowed per second of the window, whatever the traffic. */
  minPerSecond?: number;
}

const BUCKET_MS = 1_000;

export class RetryBudget {
  private readonly ratio: number;
  private readonly minRetries: number;
  private readonly requests: Float64Array;
  private readonly retries: Float64Array;
  /** The second (now / BUCKET_MS) that bucket 0..n-1 last counted; older buckets are stale. */
  private readonly seconds: Float64Array;

  constructor(options: RetryBudgetOptions = {}) {
    this.ratio = options.ratio ?? 0.2;
    const buckets = Math.max(1, Math.round((options.windowMs ?? 10_000) / BUCKET_MS));
    this.minRetries = (options.minPerSecond ?? 3) * buckets;
    this.requests = new Float64Array(buckets);
    this.retries = new Float64Array(buckets);
    this.seconds = new Float64Array(buckets).fill(-1);
  }

  /** Counts one request (first attempts only). */
  request(now = Date.now()): void {
    this.requests[this.bucket(now)]++;
  }

  /** True (and counted) when one more retry fits the budget; false = answer the failure as it is. */
  tryRetry(now = Date.now()): boolean {
    const current = this.bucket(now);
    const second = Math.floor(now / BUCKET_MS);
    const oldest = second - this.seconds.length;
    let requests = 0;
    let retries = 0;
    for (let i = 0; i < this.seconds.length; i++) {
      if ((this.seconds[i] as number) <= oldest) continue;
      requests += this.requests[i] as number;
      retries += this.retries[i] as number;
    }
    if (retries >= Math.max(this.minRetries, requests * this.ratio)) return false;
    this.retries[current]++;
    return true;
  }

  /** The bucket of `now`, cleared when it last counted an older second. */
  private bucket(now: number): number {
    const second = Math.floor(now / BUCKET_MS);
    const i = second % this.seconds.length;
    if (this.seconds[i] !== second) {
      this.seconds[i] = second;
      this.requests[i] = 0;
      this.retries[i] = 0;
    }
    return i;
  }
}
