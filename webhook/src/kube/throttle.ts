// A loop that retries every 2 s against an unreachable API server must not write a stack trace every 2 s:
// log a failure when its message changes, then at most once a minute while it repeats (with a count).
import type { Logger } from '../log.js';

export class ErrorThrottle {
  private lastMessage: string | undefined;
  private lastLoggedAt = 0;
  private suppressed = 0;

  constructor(private readonly logger: Logger, private readonly level: 'warn' | 'error', private readonly everyMs = 60_000, private readonly now = (): number => Date.now()) {}

  report(err: unknown, msg: string): void {
    const message = err instanceof Error ? err.message : String(err);
    const t = this.now();
    if (message !== this.lastMessage || t - this.lastLoggedAt >= this.everyMs) {
      this.logger[this.level]({ err, repeated: this.suppressed }, msg);
      this.lastMessage = message;
      this.lastLoggedAt = t;
      this.suppressed = 0;
    } else {
      this.suppressed++;
    }
  }

  /** After a success, the next failure is news again. */
  clear(): void {
    if (this.lastMessage !== undefined) this.logger.info({ after: this.suppressed }, 'recovered');
    this.lastMessage = undefined;
    this.suppressed = 0;
  }
}
