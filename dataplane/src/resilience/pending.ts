// The cap on requests per upstream pool (reliability: queues without bounds). undici's Pool queues every
// request it cannot start at once, without a limit; a slow upstream then piles up memory and latency for
// everyone. One PendingCap per upstream (not per request): the fast path dispatches only after
// tryAcquire(), and the request's end (undici's onComplete or onError, exactly once) calls release().
import type http from 'node:http';

export class PendingCap {
  private outstanding = 0;

  /** `limit` = the pool's connections + the requests allowed to wait for one (--max-pending-requests). */
  constructor(readonly limit: number) {}

  /** Counts a request in; false = the upstream already has `limit` requests running or waiting. */
  tryAcquire(): boolean {
    if (this.outstanding >= this.limit) return false;
    this.outstanding++;
    return true;
  }

  release(): void {
    if (this.outstanding > 0) this.outstanding--;
  }

  get inFlight(): number {
    return this.outstanding;
  }
}

const OVERFLOW_BODY = 'upstream overflow: too many requests are waiting for this upstream; retry later or raise --max-pending-requests\n';
const OVERFLOW_LENGTH = String(Buffer.byteLength(OVERFLOW_BODY));

/**
 * Answers 503 at once, without queueing or touching the upstream. A request body not read yet would have to
 * be drained to keep the connection, so the connection closes after the answer then.
 */
export function answerOverflow(res: http.ServerResponse, bodyUnread: boolean): void {
  res.writeHead(503, {
    'x-skein-error': 'upstream_overflow', 'content-type': 'text/plain', 'content-length': OVERFLOW_LENGTH,
    ...(bodyUnread ? { connection: 'close' } : {}),
  });
  res.end(OVERFLOW_BODY);
}
