// Timer that re-issues the serving certificate when rotation.ts says so and hands the new material to
// the listeners (server.setSecureContext). Used by local mode; kubernetes mode drives the same
// decision from its leader loop (kube/tls-sync.ts) because only the leader may write the Secret.
import type { Logger } from '../log.js';
import type { CheckedServing } from './material.js';
import { assessRotation, nextCheckDelayMs } from './rotation.js';

export interface RotatorOptions {
  readonly current: () => CheckedServing;
  /** Produces new, checked material; may throw (retried after `retryMs`). */
  readonly renew: () => Promise<CheckedServing>;
  readonly onRenewed: (material: CheckedServing) => void;
  /** Called when a renewal attempt fails (counted in metrics; the rotator retries by itself). */
  readonly onFailed?: (err: unknown) => void;
  readonly logger: Logger;
  readonly retryMs?: number;
  readonly now?: () => Date;
}

export class CertRotator {
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;

  constructor(private readonly opts: RotatorOptions) {}

  start(): void {
    this.stopped = false;
    this.schedule();
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }

  private now(): Date {
    return this.opts.now?.() ?? new Date();
  }

  private schedule(delayOverride?: number): void {
    if (this.stopped) return;
    const delay = delayOverride ?? nextCheckDelayMs(this.opts.current(), this.now());
    this.timer = setTimeout(() => void this.tick(), delay);
    // A pending rotation weeks away must not keep the process alive during shutdown.
    this.timer.unref();
  }

  private async tick(): Promise<void> {
    const verdict = assessRotation(this.opts.current(), this.now());
    if (!verdict.rotate) {
      this.schedule(); // woke early because of the timer cap
      return;
    }
    try {
      const fresh = await this.opts.renew();
      if (this.stopped) return;
      this.opts.onRenewed(fresh);
      this.opts.logger.info({ reason: verdict.reason, fingerprint: fresh.fingerprint, validTo: fresh.validTo }, 'serving certificate rotated');
      this.schedule();
    } catch (err) {
      this.opts.logger.error({ err, reason: verdict.reason }, 'serving certificate rotation failed; retrying');
      this.opts.onFailed?.(err);
      this.schedule(this.opts.retryMs ?? 60_000);
    }
  }
}
