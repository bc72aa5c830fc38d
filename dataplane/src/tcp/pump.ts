// One direction of an L4 connection: what `src` reads is written to `dst` from one buffer per direction,
// reused read after read (read-buffer.ts says why). May import node:net only.
//  - backpressure: a write that does not complete at once (dst.writableLength > 0 after it: the kernel's
//    send buffer is full, or earlier bytes are still queued) still references the buffer, so reading
//    stops until that write's callback and then resumes into the same buffer. The proxy therefore holds
//    at most one buffer per direction for a slow peer (N4) and allocates nothing per read.
//  - size: 16 KiB to start, so an idle or request/response connection (Redis, PostgreSQL, a pool of
//    keep-alives) costs 32 KiB; ×4 after a read that filled it, up to 256 KiB, so a bulk transfer makes
//    a quarter of the reads and writes of Node's 64 KiB stream reads (ztunnel grows its buffers the
//    same way); back to 16 KiB after 16 reads in a row that a quarter of the buffer would have held.
//  - recycling: a closed connection's 16 KiB buffers go back to a small free list (at most 2 MiB), so
//    short connections do not allocate 32 KiB of external memory each, which makes V8 collect more often.
import type net from 'node:net';

export const MIN_BUFFER = 16 * 1024;
export const MAX_BUFFER = 256 * 1024;
const SHRINK_AFTER = 16;
const FREE_MAX = 128;
const free: Buffer[] = [];
const EMPTY = Buffer.alloc(0);

function minBuffer(): Buffer {
  return free.pop() ?? Buffer.allocUnsafe(MIN_BUFFER);
}

export class Pump {
  /** Set before the first read: the upstream socket is constructed with this pump's callbacks. */
  src: net.Socket | undefined;
  private buffer = minBuffer();
  private lastRead = -1;
  private smallReads = 0;
  /** A write still references `buffer`; reading is stopped until it completes. */
  private held = false;

  constructor(private readonly dst: net.Socket) {}

  /** net.Socket `onread.callback`: forwards `n` bytes; false stops reading (Node calls readStop). */
  readonly onRead = (n: number, buffer: Buffer): boolean => {
    const dst = this.dst;
    // Nothing can take the bytes any more; the close/error handling of forward.ts ends this side.
    if (dst.destroyed || dst.writableEnded) return false;
    this.lastRead = n;
    dst.write(n === buffer.length ? buffer : buffer.subarray(0, n), this.onWritten);
    if (dst.writableLength === 0) return true;
    this.held = true;
    return false;
  };

  /** net.Socket `onread.buffer`: called for the first read and after every read, returns where the next goes. */
  readonly next = (): Buffer => {
    const size = this.buffer.length;
    const n = this.lastRead;
    if (n === size && size < MAX_BUFFER) {
      this.smallReads = 0;
      this.buffer = Buffer.allocUnsafe(size * 4);
    } else if (size > MIN_BUFFER && n >= 0 && n <= size / 4 && !this.held) {
      if (++this.smallReads >= SHRINK_AFTER) {
        this.smallReads = 0;
        this.buffer = size / 4 === MIN_BUFFER ? minBuffer() : Buffer.allocUnsafe(size / 4);
      }
    } else {
      this.smallReads = 0;
    }
    return this.buffer;
  };

  /**
   * Both sockets are closed: no read can land in the buffer and no write references it any more, so a
   * buffer of the base size can serve another connection. Idempotent.
   */
  release(): void {
    const buffer = this.buffer;
    if (buffer.length === MIN_BUFFER && free.length < FREE_MAX && !free.includes(buffer)) free.push(buffer);
    this.buffer = EMPTY;
  }

  private readonly onWritten = (err?: Error | null): void => {
    // Callbacks of earlier writes that completed at once also land here: resume only once nothing is queued.
    if (!this.held || this.dst.writableLength > 0) return;
    this.held = false;
    const src = this.src;
    if (!err && src && !src.destroyed) src.resume();
  };
}
