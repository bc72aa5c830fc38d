// The leader-election loop around the pure state machine in lease.ts: read the Lease, decide, write,
// repeat every retryPeriod. Only the leader writes the TLS Secret and the webhook caBundle.
import type { Logger } from '../log.js';
import { statusOf, type KubeIo } from './client.js';
import { ErrorThrottle } from './throttle.js';
import { DEFAULT_TIMINGS, decide, isLeading, observe, releaseSpec, type LeaseTimings, type Observation } from './lease.js';

export const LEASE_NAME = 'skein-cp-leader';

export interface LeaderOptions {
  readonly io: KubeIo;
  readonly namespace: string;
  readonly identity: string;
  readonly logger: Logger;
  readonly timings?: LeaseTimings;
  /** Called when leadership is gained or lost. */
  readonly onChange: (leading: boolean) => void;
}

export class LeaderElector {
  private observation: Observation | undefined;
  private lastRenew: Date | undefined;
  private leading = false;
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;
  private readonly timings: LeaseTimings;
  private readonly errors: ErrorThrottle;

  constructor(private readonly opts: LeaderOptions) {
    this.timings = opts.timings ?? DEFAULT_TIMINGS;
    this.errors = new ErrorThrottle(opts.logger, 'warn');
  }

  isLeader(): boolean {
    return this.leading && isLeading(this.lastRenew, new Date(), this.timings);
  }

  start(): void {
    void this.tick();
  }

  /** Stops the loop; a leader releases the Lease so another replica takes over without waiting. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    if (!this.leading) return;
    this.setLeading(false);
    try {
      const current = await this.opts.io.readLease(this.opts.namespace, LEASE_NAME);
      if (current?.spec.holderIdentity === this.opts.identity) {
        await this.opts.io.replaceLease(this.opts.namespace, LEASE_NAME, releaseSpec(current.spec), current.resourceVersion);
        this.opts.logger.info('released leadership');
      }
    } catch (err) {
      this.opts.logger.warn({ err }, 'could not release the Lease; another replica takes over after it expires');
    }
  }

  private setLeading(next: boolean): void {
    if (next === this.leading) return;
    this.leading = next;
    this.opts.logger.info({ lease: LEASE_NAME, identity: this.opts.identity, leading: next }, next ? 'became leader' : 'lost leadership');
    this.opts.onChange(next);
  }

  private schedule(ms: number): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => void this.tick(), Math.max(ms, 100));
    this.timer.unref();
  }

  private async tick(): Promise<void> {
    const { io, namespace, identity } = this.opts;
    const now = new Date();
    try {
      const current = await io.readLease(namespace, LEASE_NAME);
      if (current) this.observation = observe(this.observation, current.spec, now);
      const decision = decide(identity, current?.spec, this.observation, now, this.timings);
      if (decision.kind === 'follow') {
        this.setLeading(false);
        this.schedule(decision.retryAt.getTime() - now.getTime());
        return;
      }
      if (decision.kind === 'create') await io.createLease(namespace, LEASE_NAME, decision.spec);
      else await io.replaceLease(namespace, LEASE_NAME, decision.spec, current?.resourceVersion);
      this.lastRenew = now;
      this.observation = { spec: decision.spec, observedAt: now };
      this.setLeading(true);
      this.errors.clear();
    } catch (err) {
      // 409 = another replica wrote first: not an error, we re-read on the next tick.
      if (statusOf(err) !== 409) this.errors.report(err, 'lease read/write failed');
      if (!isLeading(this.lastRenew, new Date(), this.timings)) this.setLeading(false);
    }
    this.schedule(this.timings.retryPeriodMs);
  }
}
