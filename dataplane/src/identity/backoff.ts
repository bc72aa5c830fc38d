// Retry delays while skein-cp is away: exponential from 0.5 s to 30 s with jitter, so that the sidecars of
// a cluster do not come back in lockstep when skein-cp restarts (each waits between half and all of the
// current step). Shared by the Certify and the Watch clients.

export interface BackoffOptions { minMs: number; maxMs: number; random?: () => number }

export class Backoff {
  private attempt = 0;
  private readonly random: () => number;
  constructor(private readonly opts: BackoffOptions = { minMs: 500, maxMs: 30_000 }) {
    this.random = opts.random ?? Math.random;
  }

  /** The delay before the next try; each call doubles the step up to maxMs. */
  next(): number {
    const step = Math.min(this.opts.maxMs, this.opts.minMs * 2 ** Math.min(this.attempt, 30));
    this.attempt++;
    return Math.round(step / 2 + this.random() * (step / 2));
  }

  /** After a success: the next failure starts from minMs again. */
  reset(): void {
    this.attempt = 0;
  }
}
