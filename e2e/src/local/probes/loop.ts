// The periodic side of a probe: initialDelaySeconds, periodSeconds, success/failure thresholds.
// Reports transitions only; the container runner decides what a failure means for each probe kind.
import type { Probe } from '../model/types.js';

export type ProbeKind = 'startup' | 'readiness' | 'liveness';

export interface ProbeLoopHandlers {
  attempt: (timeoutMs: number) => Promise<boolean>;
  onSuccess: () => void;
  onFailure: () => void;
}

export class ProbeLoop {
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;
  private successes = 0;
  private failures = 0;
  private state: 'unknown' | 'success' | 'failure' = 'unknown';

  constructor(readonly kind: ProbeKind, private readonly probe: Probe, private readonly h: ProbeLoopHandlers) {}

  start(): void {
    this.schedule((this.probe.initialDelaySeconds ?? 0) * 1000);
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
  }

  private schedule(ms: number): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => void this.tick(), ms);
  }

  private async tick(): Promise<void> {
    const ok = await this.h.attempt((this.probe.timeoutSeconds ?? 1) * 1000);
    if (this.stopped) return;
    const successThreshold = this.kind === 'readiness' ? (this.probe.successThreshold ?? 1) : 1;
    const failureThreshold = this.probe.failureThreshold ?? 3;
    if (ok) {
      this.failures = 0;
      this.successes++;
      if (this.successes >= successThreshold && this.state !== 'success') {
        this.state = 'success';
        this.h.onSuccess();
      }
    } else {
      this.successes = 0;
      this.failures++;
      if (this.failures >= failureThreshold && this.state !== 'failure') {
        this.state = 'failure';
        this.h.onFailure();
      } else if (this.failures >= failureThreshold && this.kind === 'liveness') {
        this.h.onFailure();
      }
    }
    if (this.kind === 'startup' && this.state !== 'unknown') return;
    this.schedule((this.probe.periodSeconds ?? 10) * 1000);
  }
}
