// The destination of a skein-dp process's log lines: stdout, written in batches off the hot path.
// pino's sonic-boom was measured first: ~2.8 µs of CPU per line synchronous, ~3.7 µs asynchronous
// (sync: false, with or without minLength — it re-measures its growing buffer on every write); this
// queue costs a push per line, and one write carries what was queued in FLUSH_MS or BATCH_BYTES
// (a write per event-loop turn was still 18 % of the proxy's CPU at 1,000 req/s, one line per turn).
// Writes are asynchronous (libuv's threadpool), one at a time so lines keep their order; what is still
// queued at exit is written synchronously. The queue is bounded: when stdout is not read, lines are
// dropped and counted instead of growing the heap.
import fs from 'node:fs';

/** Queued lines are written at the latest this long after the first of them… */
const FLUSH_MS = 100;
/** …or as soon as this many bytes are queued. */
const BATCH_BYTES = 64 * 1024;

export class BatchedStdout {
  private queue: string[] = [];
  private queuedBytes = 0;
  private writing = false;
  private timer: NodeJS.Timeout | undefined = undefined;
  /** Lines dropped because the queue was full (stdout not read fast enough). */
  dropped = 0;
  private readonly flushNow = (): void => this.flush();

  constructor(private readonly fd = 1, private readonly maxQueuedBytes = 16 * 1024 * 1024) {}

  write(line: string): boolean {
    if (this.queuedBytes + line.length > this.maxQueuedBytes) {
      this.dropped++;
      return false;
    }
    this.queue.push(line);
    this.queuedBytes += line.length;
    if (this.writing) return true;
    if (this.queuedBytes >= BATCH_BYTES) this.flush();
    else if (this.timer === undefined) this.timer = setTimeout(this.flushNow, FLUSH_MS).unref();
    return true;
  }

  /** Starts writing what is queued (no-op while a write is in flight: its callback continues). */
  flush(): void {
    if (this.timer !== undefined) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
    if (this.writing || this.queue.length === 0) return;
    const data = Buffer.from(this.queue.join(''), 'utf8');
    this.queue = [];
    this.queuedBytes = 0;
    this.writing = true;
    this.writeOut(data, 0);
  }

  private writeOut(data: Buffer, offset: number): void {
    fs.write(this.fd, data, offset, data.length - offset, null, (err, written) => {
      if (err) {
        // A full non-blocking pipe: try again shortly; anything else (EPIPE: nobody reads) drops the batch.
        if ((err as NodeJS.ErrnoException).code === 'EAGAIN') return void setTimeout(() => this.writeOut(data, offset), 10);
        this.dropped++;
      } else if (offset + written < data.length) {
        return this.writeOut(data, offset + written);
      }
      this.writing = false;
      if (this.queuedBytes >= BATCH_BYTES) this.flush();
      else if (this.queue.length > 0 && this.timer === undefined) this.timer = setTimeout(this.flushNow, FLUSH_MS).unref();
    });
  }

  /** Writes everything queued now, synchronously (process exit). A write still in flight finishes on its own. */
  flushSync(): void {
    if (this.queue.length === 0) return;
    const data = Buffer.from(this.queue.join(''), 'utf8');
    this.queue = [];
    this.queuedBytes = 0;
    let offset = 0;
    while (offset < data.length) {
      try {
        offset += fs.writeSync(this.fd, data, offset, data.length - offset);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EAGAIN') return;
      }
    }
  }
}
