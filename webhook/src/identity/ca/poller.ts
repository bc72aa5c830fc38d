// A loop that runs `tick` now, then again after the delay it returns; `kick()` runs it at once (e.g. on
// becoming leader, or when the trust anchors change). Ticks never overlap, and kicks coalesce: a burst
// of kicks while a tick runs leads to one more tick, not one per kick. stop() waits for the running one.
export class Poller {
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;
  private queued = false;
  private running: Promise<void> = Promise.resolve();

  constructor(private readonly tick: () => Promise<number>) {}

  kick(): void {
    if (this.stopped || this.queued) return;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.queued = true;
    this.running = this.running.then(async () => {
      this.queued = false;
      if (this.stopped) return;
      const delay = await this.tick();
      this.schedule(delay);
    });
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    await this.running;
  }

  private schedule(delayMs: number): void {
    if (this.stopped || this.queued) return; // a kick during the tick already queued the next one
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => this.kick(), delayMs);
    this.timer.unref();
  }
}
