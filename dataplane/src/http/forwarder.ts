// The one module that touches http-proxy (unmaintained since 2020; see docs/dataplane.md). Most requests
// take undici (exchange.ts); http-proxy still carries what undici's HTTP/1.1 client cannot: requests with
// `Expect: 100-continue` (undici refuses the header and never relays a 100), chunked request bodies
// (undici cannot send request trailers) and the WebSocket handshake. What it gets wrong is patched here:
//  - every error goes to a per-call callback, plus an 'error' listener on the proxy, so no error event is
//    ever unhandled (node-http-proxy#1468) and the client gets 502/504 with x-skein-error;
//  - headers are changed on req.headers before forwarding, never with setHeader in 'proxyReq'
//    (GHSA-6x33-pw7p-hmpq: setHeader after the headers went out crashes the process);
//  - it collapses `//` in paths (common.urlJoin): the outgoing request line is restored to req.url;
//  - it forwards neither trailers nor `100 Continue`, and strips no hop-by-hop headers: done here;
//  - it has no keep-alive by default: a pooled Agent per upstream is passed in;
//  - it emits 'proxyReq' only without an Expect header: the pooled agent hands us each request (pool.ts).
import type http from 'node:http';
import { STATUS_CODES } from 'node:http';
import type net from 'node:net';
import { createRequire } from 'node:module';
import type HttpProxy from 'http-proxy';
import type { Logger } from 'pino';
import { httpFailureFor, UpstreamResponseTimeoutError, type HttpFailure } from '../errors.js';
import type { UpstreamPools } from './pool.js';
import { safeReasonPhrase, stripResponseHopByHop, trailerPairs } from './headers.js';

export type { Target } from '../tcp/forward.js';
import type { Target } from '../tcp/forward.js';
import { resetSocket } from '../transport/reset.js';

export interface ExchangeContext {
  target: Target;
  log: Logger;
  /** The client asked for Connection: close, or the proxy is draining: tell it to close after this response. */
  closeAfter: () => boolean;
  /** Called once with the failure when the proxy answered (or cut) the exchange itself. */
  onFailure: (failure: HttpFailure, err: unknown) => void;
  /** Response body bytes forwarded to the client. */
  bytesOut: number;
  /** WebSocket only: the status the client got (101, the upstream's refusal, or our 502/504); 0 = none yet. */
  status?: number;
}

interface WsState { ctx: ExchangeContext; socket: net.Socket; upgraded: boolean; responded: boolean }

export class HttpForwarder {
  private proxyInstance: HttpProxy | undefined;
  private readonly exchanges = new WeakMap<http.IncomingMessage, ExchangeContext>();
  private readonly wsStates = new WeakMap<http.IncomingMessage, WsState>();

  constructor(private readonly pools: UpstreamPools, private readonly responseTimeoutMs: number, private readonly log: Logger) {}

  /**
   * http-proxy is loaded with the first request that needs it (5 MB of RSS and 14 ms of start-up that a
   * sidecar whose traffic all takes undici never pays).
   */
  private get proxy(): HttpProxy {
    if (this.proxyInstance) return this.proxyInstance;
    const { createProxyServer } = createRequire(import.meta.url)('http-proxy') as typeof HttpProxy;
    const proxy = createProxyServer({ xfwd: false, preserveHeaderKeyCase: true, ws: true });
    // Backstop: errors normally reach the per-call callbacks; an emitted one must still not crash us.
    proxy.on('error', (err) => this.log.warn({ err: (err as Error).message }, 'http-proxy error without a handler'));
    proxy.on('proxyRes', (proxyRes, req, res) => this.onProxyRes(proxyRes, req, res));
    proxy.on('proxyReqWs', (proxyReq, req) => this.onProxyReqWs(proxyReq, req));
    this.proxyInstance = proxy;
    return proxy;
  }

  /** Forwards one HTTP request; the response (or a 502/504) is written to `res`. */
  web(req: http.IncomingMessage, res: http.ServerResponse, ctx: ExchangeContext): void {
    this.exchanges.set(req, ctx);
    const agent = this.pools.upstreamFor(ctx.target).agent;
    agent.withRequestHook((proxyReq) => this.onProxyReq(proxyReq, req, res, ctx), () => {
      this.proxy.web(req, res, {
        target: { protocol: 'http:', host: ctx.target.host, port: ctx.target.port },
        agent, ignorePath: true, prependPath: false,
        ...(ctx.target.localAddress ? { localAddress: ctx.target.localAddress } : {}),
      }, (err) => answerFailure(err, res, ctx));
    });
  }

  /** Forwards a WebSocket upgrade; after a 101 the two sockets are spliced by http-proxy. */
  ws(req: http.IncomingMessage, socket: net.Socket, head: Buffer, ctx: ExchangeContext): void {
    const state: WsState = { ctx, socket, upgraded: false, responded: false };
    this.wsStates.set(req, state);
    // Before and after the upgrade, a client socket error must never be unhandled (#1468).
    socket.on('error', (err) => ctx.log.debug({ err: err.message }, 'websocket client socket error'));
    this.proxy.ws(req, socket, head, {
      target: { protocol: 'http:', host: ctx.target.host, port: ctx.target.port },
      // A dedicated connection: an upgraded socket leaves any pool anyway (mTLS to a meshed peer).
      agent: this.pools.upstreamFor(ctx.target).tunnelAgent() ?? false, ignorePath: true, prependPath: false,
      ...(ctx.target.localAddress ? { localAddress: ctx.target.localAddress } : {}),
    }, (err) => {
      const failure = httpFailureFor(err);
      if (!state.responded && !state.upgraded && socket.writable) {
        ctx.status = failure.status;
        socket.end(`HTTP/1.1 ${failure.status} ${failure.status === 504 ? 'Gateway Timeout' : 'Bad Gateway'}\r\n` +
          `x-skein-error: ${failure.code}\r\nconnection: close\r\ncontent-length: 0\r\n\r\n`);
      } else {
        socket.destroy();
      }
      ctx.onFailure(failure, err);
    });
  }

  close(): void {
    this.proxyInstance?.close();
  }

  private onProxyReq(proxyReq: http.ClientRequest, req: http.IncomingMessage, res: http.ServerResponse, ctx: ExchangeContext): void {
    restorePath(proxyReq, req);
    // Expect: 100-continue was forwarded as is; relay the upstream's 100 so the client sends its body.
    // If the upstream answers with a final status instead (417…), the client never sends the body (N6).
    proxyReq.on('continue', () => { if (!res.headersSent) res.writeContinue(); });
    if (this.responseTimeoutMs > 0) {
      proxyReq.setTimeout(this.responseTimeoutMs, () => {
        proxyReq.destroy(new UpstreamResponseTimeoutError(`${ctx.target.host}:${ctx.target.port}`, this.responseTimeoutMs));
      });
    }
    // Request trailers: this 'end' listener runs before the one pipe() adds later, i.e. before proxyReq.end().
    req.once('end', () => {
      if (req.rawTrailers.length > 0) proxyReq.addTrailers(trailerPairs(req.rawTrailers));
    });
    // A response that ends before the request body did (417, early 4xx): the upstream connection cannot be reused.
    res.once('finish', () => { if (!req.complete) proxyReq.destroy(); });
  }

  private onProxyRes(proxyRes: http.IncomingMessage, req: http.IncomingMessage, _res: http.ServerResponse): void {
    const ctx = this.exchanges.get(req);
    if (!ctx) return;
    stripResponseHopByHop(proxyRes.headers);
    // http-proxy copies the reason phrase into res.statusMessage; a control character in it threw
    // ERR_INVALID_CHAR outside any handler and the proxy process exited.
    proxyRes.statusMessage = safeReasonPhrase(proxyRes.statusCode ?? 502, proxyRes.statusMessage);
    if (req.httpVersion === '1.1') proxyRes.headers.connection = ctx.closeAfter() ? 'close' : 'keep-alive';
    proxyRes.on('data', (chunk: Buffer) => { ctx.bytesOut += chunk.length; });
    // Registered before http-proxy pipes proxyRes into res, so the trailers are added before res.end().
    proxyRes.once('end', () => {
      if (proxyRes.rawTrailers.length > 0) _res.addTrailers(trailerPairs(proxyRes.rawTrailers));
    });
  }

  private onProxyReqWs(proxyReq: http.ClientRequest, req: http.IncomingMessage): void {
    const state = this.wsStates.get(req);
    if (!state) return;
    restorePath(proxyReq, req);
    proxyReq.once('upgrade', (_res: http.IncomingMessage, upstream: net.Socket) => {
      state.upgraded = true;
      state.ctx.status = 101;
      // http-proxy splices with pipe(), which ends neither side when the other is destroyed: tie their lives.
      state.socket.once('close', () => upstream.destroy());
      upstream.once('close', () => state.socket.destroy());
      upstream.setNoDelay(true);
    });
    proxyReq.once('response', (res: http.IncomingMessage) => { state.responded = true; state.ctx.status = res.statusCode ?? 0; });
  }

}

/** The client is told about a failed exchange: 502/504 with x-skein-error, or a reset/close mid-response. */
export function answerFailure(err: unknown, res: http.ServerResponse, ctx: ExchangeContext): void {
  const failure = httpFailureFor(err);
  ctx.onFailure(failure, err);
  if (!res.headersSent && !res.writableEnded && !res.destroyed) {
    const body = `upstream ${ctx.target.host}:${ctx.target.port}: ${failure.code}\n`;
    // The reason phrase given: a failed writeHead may have left the upstream's (invalid) one on res.
    res.writeHead(failure.status, STATUS_CODES[failure.status] ?? '', {
      'x-skein-error': failure.code, 'content-type': 'text/plain; charset=utf-8',
      'content-length': Buffer.byteLength(body), connection: 'close',
    });
    res.end(body);
    return;
  }
  // The response is complete: an upstream failure now must not truncate it (envoy#45267).
  if (res.writableEnded) return;
  // Mid-response: the client must see the failure, not a clean end (N2). An upstream reset becomes a reset.
  if (failure.code === 'upstream_reset') { if (res.socket) resetSocket(res.socket); }
  else res.destroy();
}

/**
 * http-proxy rewrote the path through common.urlJoin (which collapses `//`, also inside the query).
 * The request line is written when the headers are flushed — at the first write, or already in the
 * ClientRequest constructor when an Expect header is present — so both places are corrected.
 */
function restorePath(proxyReq: http.ClientRequest, req: http.IncomingMessage): void {
  const url = req.url ?? '/';
  if (proxyReq.path === url) return;
  proxyReq.path = url;
  const internal = proxyReq as unknown as { _header?: string | null; outputData?: Array<{ data: unknown }> };
  const fix = (head: string): string => `${proxyReq.method} ${url} HTTP/1.1${head.slice(head.indexOf('\r\n'))}`;
  if (typeof internal._header === 'string') {
    // Expect present: the head was rendered and queued (outputData) before any socket existed.
    const queued = internal.outputData?.[0];
    if (queued && typeof queued.data === 'string' && queued.data === internal._header) queued.data = fix(queued.data);
    internal._header = fix(internal._header);
  }
}
