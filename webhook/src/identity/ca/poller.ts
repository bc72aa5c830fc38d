// A loop that runs `tick` now, then again after the delay it returns; `kick()` runs it at once (e.g. on
// becoming leader, or when the trust anchors change). Ticks never overlap; stop() waits for the one running.
export class Poller {
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;
  private running: Promise<void> = Promise.resolve();

  constructor(private readonly tick: () => Promise<number>) {}

  kick(): void {
    if (this.stopped) return;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.running = this.running.then(async () => {
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
    if (this.stopped) return;
    if (this.timer) clearTimeout(this.timer); // kicks queued back to back must leave one timer, not two
    this.timer = setTimeout(() => this.kick(), delayMs);
    this.timer.unref();
  }
}
