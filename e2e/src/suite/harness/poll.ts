// Bounded polling: the suite waits for conditions, never for a fixed time. The timeout is a
// failure guard only; the error says what was awaited and the last thing seen.

export interface PollOptions {
  /** Give up after this long (a guard against hangs, not a performance expectation). */
  readonly timeoutMs: number;
  readonly intervalMs?: number;
  /** What is being waited for, for the error message. */
  readonly what: string;
}

/**
 * Calls `probe` until it returns a value other than undefined, and returns that value.
 * A probe that throws counts as "not yet"; its last error is reported on timeout.
 */
export async function pollUntil<T>(probe: () => Promise<T | undefined>, opts: PollOptions): Promise<T> {
  const deadline = Date.now() + opts.timeoutMs;
  const interval = opts.intervalMs ?? 250;
  let last = 'no attempt finished';
  for (;;) {
    try {
      const value = await probe();
      if (value !== undefined) return value;
      last = 'condition not met';
    } catch (err) {
      last = (err as Error).message;
    }
    if (Date.now() >= deadline) {
      throw new Error(`timed out after ${opts.timeoutMs} ms waiting for ${opts.what}; last: ${last}`);
    }
    await new Promise((r) => setTimeout(r, interval));
  }
}
