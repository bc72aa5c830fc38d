// One HTTP request/response through the proxy, as one object with fixed fields: it is the undici
// dispatch handler (the response is streamed straight into the client's ServerResponse: no
// IncomingMessage, no pipe(), no per-chunk listener) and the context the http-proxy path and the
// access log read. The response head is written with the first body chunk: ServerResponse corks the
// socket for the tick, so head + body of a response that arrived in one read leave in one writev; the
// chunk that completes a Content-Length body is held for end(), which writes head, body and the end of
// the message at once, right away instead of on the next tick.
import type http from 'node:http';
import { performance } from 'node:perf_hooks';
import type { Dispatcher } from 'undici';
import type { HttpFailure } from '../errors.js';
import type { Logger } from 'pino';
import type { Target } from '../tcp/forward.js';
import { answerFailure, type ExchangeContext } from './forwarder.js';
import { clientResponseHeaders, safeReasonPhrase, trailerPairs, type RequestScan } from './headers.js';
import { RetryableAnswer, retryableAnswer } from '../resilience/retry-dispatch.js';

const SKEIN_ERROR = 'x-skein-error';

/** The x-skein-error value of a raw response head (name, value, name, value … as undici gives it). */
function skeinErrorOf(headers: Buffer[]): string | undefined {
  for (let i = 0; i + 1 < headers.length; i += 2) {
    const name = headers[i] as Buffer;
    if (name.length === SKEIN_ERROR.length && name.toString('latin1').toLowerCase() === SKEIN_ERROR) return (headers[i + 1] as Buffer).toString('latin1');
  }
  return undefined;
}

/** An answer held back for a retry that did not happen: the client gets its status, with our reason. */
function answerRetryable(err: RetryableAnswer, res: http.ServerResponse, ctx: ExchangeContext): void {
  const code = err.failure === 'connect' ? 'upstream_refused' : err.failure === 'connection' ? 'upstream_reset' : 'upstream_unavailable';
  ctx.onFailure({ status: err.status as 502 | 503 | 504, code }, err);
  const body = `upstream ${ctx.target.host}:${ctx.target.port}: ${code}\n`;
  res.writeHead(err.status, {
    [SKEIN_ERROR]: code, 'content-type': 'text/plain; charset=utf-8', 'content-length': Buffer.byteLength(body), connection: 'close',
  });
  res.end(body);
}

/** What a request needs from its listener: resolved once per listener, shared by all its requests. */
export interface ExchangeHost {
  isDraining(): boolean;
  countFailure(code: string): void;
}

/** The error an exchange aborts its upstream request with when the client went away (one instance: no stack per abort). */
const CLIENT_GONE = new Error('the client closed the connection before the response ended');

export class Exchange implements ExchangeContext, Dispatcher.DispatchHandler {
  readonly target: Target;
  readonly log: Logger;
  readonly started = performance.now();
  bytesOut = 0;
  /** The response's Content-Length, -1 when none (set from the head). */
  contentLength = -1;
  failure: string | undefined = undefined;
  /** The policy that allowed or denied the request (inbound in a mesh), for the access log. */
  policy: string | undefined = undefined;
  private last: Buffer | undefined = undefined;
  requestId: string;
  private abortUpstream: ((err?: Error) => void) | undefined = undefined;
  private resumeUpstream: (() => void) | undefined = undefined;
  private done = false;
  /** The upstream's pending cap this request counts in (fast path): released when undici ends the request. */
  slot: { release(): void } | undefined = undefined;
  /**
   * Set for a request that may be retried (resilience/retry-dispatch.ts): called with a failed attempt's
   * error before anything was sent to the client; true = it was sent again, to another endpoint.
   */
  retry: ((err: Error) => boolean) | undefined = undefined;

  constructor(
    readonly req: http.IncomingMessage, readonly res: http.ServerResponse, target: Target, log: Logger,
    readonly scan: RequestScan, private readonly host: ExchangeHost,
  ) {
    this.target = target;
    this.log = log;
    this.requestId = scan.requestId ?? '';
  }

  closeAfter(): boolean {
    return this.scan.wantsClose || this.host.isDraining();
  }

  onFailure(failure: HttpFailure): void {
    this.failure = failure.code;
    this.host.countFailure(failure.code);
  }

  /** The client's response closed (complete, or the client went away): stop an upstream request still running. */
  clientClosed(): void {
    if (this.done) return;
    this.done = true;
    this.abortUpstream?.(CLIENT_GONE);
  }

  // ---- undici DispatchHandler (the legacy shape, which undici calls without a wrapper) ----

  onConnect(abort: (err?: Error) => void): void {
    this.abortUpstream = abort;
    // The client went away while the request waited for a pooled connection: undici calls onConnect
    // only when it starts the request, so clientClosed() had nothing to abort then. Sent anyway, the
    // response stalled on a 'drain' that never comes and held the pool slot for good.
    if (this.done) abort(CLIENT_GONE);
  }

  onHeaders(statusCode: number, headers: Buffer[], resume: () => void, statusText: string): boolean {
    // 1xx other than 100/101 (103 Early Hints) are not relayed, as before; 100 never comes (no Expect here).
    if (statusCode < 200) return true;
    if (this.res.destroyed) return this.clientGone();
    if (this.retry && statusCode >= 502 && statusCode <= 504) {
      const retryable = retryableAnswer(statusCode, skeinErrorOf(headers));
      if (retryable) {
        // Not relayed: the attempt is aborted and onError decides (retry elsewhere, or answer it).
        this.abortUpstream?.(retryable);
        return false;
      }
    }
    this.resumeUpstream = resume;
    const http11 = this.req.httpVersion === '1.1';
    // A response that came before the request body ended (413, 401 to an upload): the rest of the body
    // will not be read, so the client connection cannot carry another request (Node's server does the same).
    const close = this.closeAfter() || !this.req.complete;
    const connection = http11 ? (close ? 'close' : 'keep-alive') : undefined;
    const list = clientResponseHeaders(headers, connection, !http11, this);
    this.res.writeHead(statusCode, safeReasonPhrase(statusCode, statusText || undefined), list);
    return true;
  }

  /** The client's response is gone (destroyed): stop the upstream request instead of waiting on it. */
  private clientGone(): boolean {
    this.done = true;
    this.abortUpstream?.(CLIENT_GONE);
    return false;
  }

  onData(chunk: Buffer): boolean {
    if (this.res.destroyed) return this.clientGone();
    this.bytesOut += chunk.length;
    // The body's last chunk: llhttp reports the message complete in the same parse, onComplete ends with it.
    if (this.bytesOut === this.contentLength) {
      this.last = chunk;
      return true;
    }
    if (this.res.write(chunk)) return true;
    // Backpressure: undici stops reading the upstream until the client has taken what is queued.
    this.res.once('drain', this.resumeUpstream as () => void);
    return false;
  }

  onComplete(trailers: string[] | Buffer[] | null): void {
    this.done = true;
    this.slot?.release();
    if (trailers && trailers.length > 0) this.res.addTrailers(trailerPairs(trailers));
    const last = this.last;
    if (last === undefined) {
      this.res.end();
      return;
    }
    this.last = undefined;
    this.res.end(last);
  }

  onError(err: Error): void {
    this.slot?.release();
    this.slot = undefined;
    if (err === CLIENT_GONE) return;
    if (!this.done && this.retry && !this.res.headersSent && !this.res.destroyed) {
      this.abortUpstream = undefined;
      if (this.retry(err)) return;
    }
    if (err instanceof RetryableAnswer) {
      // No retry after all: the client gets what the upstream said, as a failure of ours.
      this.done = true;
      return answerRetryable(err, this.res, this);
    }
    this.done = true;
    this.last = undefined;
    answerFailure(err, this.res, this);
  }

  onUpgrade(): void {
    // Upgrades never take this path (server.ts sends them to http-proxy's ws() or the TCP tunnel).
    this.res.destroy();
  }
}
