// The L7 HTTP/1.1 path of one direction: a node:http Server that never listens. Connections detected as
// HTTP/1 are handed to it with emit('connection') after their peeked bytes were unshifted, and each
// request is forwarded through HttpForwarder to the connection's target. Node's strict llhttp parser
// (insecureHTTPParser off) rejects most smuggling shapes before a 'request' exists; framingProblem()
// covers what it lets through. One log line and one metric per request.
// Inbound in a mesh, the connection carries its ConnectionAuthz (policy/): each request's target is
// normalised (400 when ambiguous) and decided before anything is sent upstream (403 with a JSON body
// naming the policy); the app receives the normalised target; the access line names the deciding policy.
import { randomUUID } from 'node:crypto';
import http from 'node:http';
import type net from 'node:net';
import { performance } from 'node:perf_hooks';
import type { Logger } from 'pino';
import { writeAccessLine } from '../log/index.js';
import type { Dispatcher } from 'undici';
import { counterChild, type CounterChild, type Direction, type Metrics } from '../metrics/index.js';
import { forwardTcp } from '../tcp/forward.js';
import { Exchange, type ExchangeHost } from './exchange.js';
import { HttpForwarder, type ExchangeContext, type Target } from './forwarder.js';
import { ensureRequestId, framingProblem, PEER_IDENTITY_HEADER, scanRequest, stripRequestHopByHop } from './headers.js';
import type { UpstreamPools } from './pool.js';
import type { BalancedConnection } from '../balance/http.js';
import { answerOverflow } from '../resilience/pending.js';
import { budgetFor, retryHook, type Rebalancer } from '../resilience/retry-dispatch.js';
import type { Balanced } from '../balance/types.js';
import { deniedBody, type ConnectionAuthz, type RequestVerdict } from '../policy/index.js';

export interface HttpConnection {
  target: Target;
  log: Logger;
  /** The caller's SPIFFE ID, verified by mTLS (inbound from a peer sidecar): sent to the app as x-skein-peer-identity. */
  peer?: string;
  /** Inbound in a mesh: every request is authorized (policy/) before it goes upstream. */
  authz?: ConnectionAuthz;
  /**
   * Outbound to a Service: each request picks its endpoint (balance/http.ts), which sets target and log;
   * a failed attempt may be sent again elsewhere (reapply, resilience/retry-dispatch.ts).
   */
  balance?: { apply(req: http.IncomingMessage, res: http.ServerResponse, conn: BalancedConnection): unknown; retryKey?: string } & Partial<Rebalancer<Balanced>>;
}

export interface HttpPathOptions {
  direction: Direction;
  pools: UpstreamPools;
  metrics: Metrics;
  log: Logger;
  responseTimeoutMs: number;
  idleTimeoutMs: number;
  connectTimeoutMs: number;
  isDraining: () => boolean;
  /** One log line per request (--access-log, default on). */
  accessLog?: boolean;
}

export interface HttpPath {
  /** Takes over a paused socket whose peeked bytes are back in its buffer. */
  accept(socket: net.Socket, connection: HttpConnection): void;
  /** Closes keep-alive connections that have no request in flight (drain). */
  closeIdle(): void;
  close(): void;
}

const kExchange = Symbol('skein.exchange');
type ResponseWithExchange = http.ServerResponse & { [kExchange]?: Exchange };
const STATUS_CLASSES = ['other', '1xx', '2xx', '3xx', '4xx', '5xx'];

function statusIndex(status: number): number {
  return status >= 100 && status < 600 ? Math.floor(status / 100) : 0;
}

/** The path of a request target without its query (it may hold credentials). */
function pathOf(url: string | undefined): string {
  if (url === undefined) return '';
  const q = url.indexOf('?');
  return q < 0 ? url : url.slice(0, q);
}

/** The 400 written straight to a socket whose request never reached a 'request' handler. */
const BAD_REQUEST_RAW = 'HTTP/1.1 400 Bad Request\r\nx-skein-error: bad_request\r\nconnection: close\r\ncontent-length: 0\r\n\r\n';

export function createHttpPath(options: HttpPathOptions): HttpPath {
  const connections = new WeakMap<net.Socket, HttpConnection>();
  const forwarder = new HttpForwarder(options.pools, options.responseTimeoutMs, options.log);
  const server = http.createServer({
    insecureHTTPParser: false,
    // Missing Host is answered by framingProblem() with our x-skein-error header, like every other 400.
    requireHostHeader: false,
    // Long-lived streams are the app's business: no total request timeout; slowloris is bounded by headersTimeout.
    requestTimeout: 0,
    headersTimeout: 60_000,
    // Longer than common client pools (Node 5 s, Go 90 s idle is cut by us first only after 65 s).
    keepAliveTimeout: 65_000,
  });
  // A client that sends its request and then FIN must still get the whole response (N1); Node's
  // default aborts the request on the client's FIN.
  (server as http.Server & { httpAllowHalfOpen: boolean }).httpAllowHalfOpen = true;
  // This server never listens, but Node starts its connection tracking on 'listening': without it
  // closeIdleConnections() (drain) is a no-op and headersTimeout (slowloris) is never checked.
  server.emit('listening');
  const { direction, metrics } = options;

  // Resolved once per listener: the metric series and the failure hook every request of this direction uses.
  const requests = STATUS_CLASSES.map((status_class) => counterChild(metrics.httpRequests, { direction, status_class }));
  const badRequests = counterChild(metrics.refused, { direction, reason: 'bad_request' });
  const errorsByCode = new Map<string, CounterChild>();
  const host: ExchangeHost = {
    isDraining: options.isDraining,
    countFailure(code) {
      let child = errorsByCode.get(code);
      if (!child) errorsByCode.set(code, child = counterChild(metrics.errors, { direction, code }));
      child.inc();
    },
  };
  const accessLog = options.accessLog !== false;
  const responseTimeoutMs = options.responseTimeoutMs;

  // One listener function for every response (no closure per request): `this` is the ServerResponse.
  function onResponseClose(this: http.ServerResponse): void {
    const ex = (this as ResponseWithExchange)[kExchange];
    if (!ex) return;
    ex.clientClosed();
    const status = this.headersSent ? this.statusCode : 0;
    (requests[statusIndex(status)] as CounterChild).inc();
    if (!accessLog) return;
    const req = ex.req;
    writeAccessLine(ex.log, {
      method: req.method, authority: clip(ex.scan.host, 256), path: clip(pathOf(req.url), 1024) as string, status,
      bytes: ex.bytesOut, durationMs: Math.round((performance.now() - ex.started) * 1000) / 1000,
      requestId: ex.requestId, error: ex.failure, policy: ex.policy,
    });
  }

  const handle = (req: http.IncomingMessage, res: http.ServerResponse): void => {
    const conn = connections.get(req.socket);
    if (!conn) return void res.destroy();
    const scan = scanRequest(req);
    if (conn.balance) conn.balance.apply(req, res, conn);
    const ex = new Exchange(req, res, conn.target, conn.log, scan, host);
    (res as ResponseWithExchange)[kExchange] = ex;
    res.on('close', onResponseClose);
    if (scan.problem) {
      ex.failure = scan.problem;
      badRequests.inc();
      res.writeHead(400, { 'x-skein-error': 'bad_request', connection: 'close', 'content-type': 'text/plain' });
      res.end(`bad request: ${scan.problem}\n`);
      return;
    }
    if (conn.authz) {
      const verdict = conn.authz.request(req.method ?? '', req.url ?? '/');
      if (verdict.kind !== 'allow') return refuseRequest(req, res, ex, verdict, conn, scan.hasLength || scan.chunked);
      ex.policy = verdict.decision.policy;
      if (verdict.target !== req.url) req.url = verdict.target;
    }
    const url = req.url ?? '/';
    if (ex.requestId === '') {
      ex.requestId = randomUUID();
      scan.forward.push('x-request-id', ex.requestId);
    }
    if (conn.peer !== undefined) scan.forward.push(PEER_IDENTITY_HEADER, conn.peer);
    if (!scan.expect && !scan.chunked && url.charCodeAt(0) === 0x2f /* '/' */) {
      const send = (): boolean => {
        const upstream = options.pools.upstreamFor(conn.target);
        if (!upstream.pending.tryAcquire()) {
          ex.failure = 'upstream_overflow';
          metrics.upstreamOverflow.inc({ direction });
          answerOverflow(res, scan.hasLength);
          return false;
        }
        ex.slot = upstream.pending;
        upstream.pool.dispatch({
          method: req.method as Dispatcher.HttpMethod, path: url, headers: scan.forward,
          body: scan.hasLength ? req : null, headersTimeout: responseTimeoutMs, bodyTimeout: responseTimeoutMs,
        }, ex);
        return true;
      };
      // A body-less request to a Service may be retried on another endpoint (the body is not kept).
      const b = conn.balance;
      if (b?.reapply && b.pickedFor && b.retryKey !== undefined && !scan.hasLength) {
        ex.retry = retryHook({
          req, res, conn, balance: b as Rebalancer<Balanced>, budget: budgetFor(b.retryKey), resend: send,
          onRetry: (result) => metrics.retries.inc({ result }),
        });
      }
      send();
      return;
    }
    // Expect: 100-continue, chunked bodies (trailers) and non-origin-form targets: the http-proxy path.
    stripRequestHopByHop(req);
    req.headers['x-request-id'] = ex.requestId;
    if (conn.peer !== undefined) req.headers[PEER_IDENTITY_HEADER] = conn.peer;
    forwarder.web(req, res, ex);
  };

  server.on('request', handle);
  // With a listener Node stops answering 100 itself; the expectation travels upstream (see forwarder).
  server.on('checkContinue', handle);
  server.on('upgrade', (req: http.IncomingMessage, socket: net.Socket, head: Buffer) => {
    const conn = connections.get(socket);
    if (!conn) return void socket.destroy();
    if (refuseMalformed(req, socket, conn)) return;
    delete req.headers[PEER_IDENTITY_HEADER];
    if (conn.peer !== undefined) req.headers[PEER_IDENTITY_HEADER] = conn.peer;
    const websocket = String(req.headers.upgrade).toLowerCase() === 'websocket' && req.method === 'GET';
    // Anything but a WebSocket becomes a tunnel no request decision sees into: it must also pass as opaque.
    const policy = authorizeUpgrade(req, socket, conn, !websocket);
    if (policy === false) return;
    if (websocket) {
      ensureRequestId(req);
      const started = process.hrtime.bigint();
      let failure: string | undefined;
      const ctx: ExchangeContext = {
        target: conn.target, log: conn.log, bytesOut: 0, status: 0, closeAfter: () => true,
        onFailure: (f) => { failure = f.code; host.countFailure(f.code); },
      };
      // The request's one line is written when the tunnel ends; bytes = everything written to the client.
      socket.once('close', () => {
        (requests[statusIndex(ctx.status ?? 0)] as CounterChild).inc();
        if (!accessLog) return;
        conn.log.info({
          method: req.method, authority: clip(req.headers.host, 256), path: clip((req.url ?? '').split('?')[0], 1024),
          status: ctx.status, bytes: socket.bytesWritten, durationMs: Number(process.hrtime.bigint() - started) / 1e6,
          requestId: req.headers['x-request-id'], upgrade: 'websocket', ...(failure ? { error: failure } : {}), ...(policy ? { policy } : {}),
        }, 'request');
      });
      forwarder.ws(req, socket, head, ctx);
      return;
    }
    tunnel(req, socket, head, conn, 'upgrade');
  });
  // CONNECT (the app talks to a forward proxy) and non-WebSocket upgrades (h2c…): the rest of the
  // connection is opaque to us, so the request head is rebuilt and everything is forwarded as TCP.
  server.on('connect', (req: http.IncomingMessage, socket: net.Socket, head: Buffer) => {
    const conn = connections.get(socket);
    if (!conn) return void socket.destroy();
    if (refuseMalformed(req, socket, conn)) return;
    if (authorizeUpgrade(req, socket, conn, true) === false) return;
    tunnel(req, socket, head, conn, 'connect');
  });
  server.on('clientError', (err: Error & { code?: string }, socket: net.Socket) => {
    const conn = connections.get(socket);
    if (err.code === 'ECONNRESET' || !socket.writable || (socket as net.Socket & { _httpMessage?: unknown })._httpMessage) {
      socket.destroy();
      return;
    }
    badRequests.inc();
    conn?.log.info({ err: err.code ?? err.message }, 'malformed HTTP request refused');
    socket.end(BAD_REQUEST_RAW);
  });

  // Upgrades and CONNECT leave the L7 path: the framing checks must run before their bytes go anywhere.
  const refuseMalformed = (req: http.IncomingMessage, socket: net.Socket, conn: HttpConnection): boolean => {
    const problem = framingProblem(req);
    if (!problem) return false;
    badRequests.inc();
    conn.log.info({ problem }, 'malformed HTTP request refused');
    socket.on('error', () => undefined);
    socket.end(BAD_REQUEST_RAW);
    return true;
  };

  const ambiguousPaths = counterChild(metrics.refused, { direction, reason: 'ambiguous_path' });

  /** A request refused by authorization: 400 for an ambiguous path, 403 naming the policy; nothing goes upstream. */
  const refuseRequest = (
    req: http.IncomingMessage, res: http.ServerResponse, ex: Exchange, verdict: Exclude<RequestVerdict, { kind: 'allow' }>,
    conn: HttpConnection, hasBody: boolean,
  ): void => {
    // An unread body would have to be read and dropped before the next request: close instead
    // (otherwise Node keeps the connection as the client asked).
    const close = hasBody && !req.complete ? { connection: 'close' } : {};
    if (verdict.kind === 'bad') {
      ex.failure = `ambiguous_path`;
      ambiguousPaths.inc();
      const body = `bad request: ambiguous path (${verdict.problem})\n`;
      if (!accessLog) conn.log.info({ problem: verdict.problem }, 'request with an ambiguous path refused');
      res.writeHead(400, { 'x-skein-error': 'ambiguous_path', 'content-type': 'text/plain', 'content-length': Buffer.byteLength(body), ...close });
      res.end(body);
      return;
    }
    ex.failure = 'denied';
    ex.policy = verdict.decision.policy;
    // The access line shows the path that was judged (nothing goes upstream).
    if (verdict.target !== req.url) req.url = verdict.target;
    if (!accessLog) logDenied(conn, req, verdict);
    const body = deniedBody(verdict.decision);
    res.writeHead(403, { 'x-skein-error': 'denied', 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), ...close });
    res.end(body);
  };

  /**
   * Authorizes an upgrade or CONNECT; on refusal answers on the raw socket and returns false. An allowed
   * one is watched (closed if a new snapshot revokes it); returns the deciding policy (undefined: no authz).
   */
  const authorizeUpgrade = (req: http.IncomingMessage, socket: net.Socket, conn: HttpConnection, opaqueAfter: boolean): string | undefined | false => {
    if (!conn.authz) return undefined;
    const verdict = conn.authz.request(req.method ?? '', req.url ?? '/', opaqueAfter);
    if (verdict.kind === 'allow') {
      if (verdict.target !== req.url) req.url = verdict.target;
      const untrack = conn.authz.trackRequest(req.method ?? '', verdict.path, opaqueAfter, () => socket.destroy());
      socket.once('close', untrack);
      return verdict.decision.policy;
    }
    socket.on('error', () => undefined);
    if (verdict.kind === 'bad') {
      ambiguousPaths.inc();
      conn.log.info({ problem: verdict.problem, method: req.method }, 'request with an ambiguous path refused');
      socket.end('HTTP/1.1 400 Bad Request\r\nx-skein-error: ambiguous_path\r\nconnection: close\r\ncontent-length: 0\r\n\r\n');
      return false;
    }
    logDenied(conn, req, verdict);
    const body = deniedBody(verdict.decision);
    socket.end(`HTTP/1.1 403 Forbidden\r\nx-skein-error: denied\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`);
    return false;
  };

  const tunnel = (req: http.IncomingMessage, socket: net.Socket, head: Buffer, conn: HttpConnection, kind: string): void => {
    conn.log.info({ method: req.method, kind }, 'forwarding the rest of the connection as TCP');
    socket.on('error', () => undefined);
    void forwardTcp(socket, {
      target: conn.target, head: Buffer.concat([requestHead(req, conn.peer), head]), idleTimeoutMs: options.idleTimeoutMs,
      connectTimeoutMs: options.connectTimeoutMs, log: conn.log,
    });
  };

  return {
    accept(socket, connection) {
      connections.set(socket, connection);
      server.emit('connection', socket);
      // The http server consumes the socket's handle directly; resume() delivers the unshifted bytes
      // first (on the next tick, before any further I/O is read).
      socket.resume();
    },
    closeIdle: () => server.closeIdleConnections(),
    close: () => {
      server.closeAllConnections();
      forwarder.close();
    },
  };
}

function logDenied(conn: HttpConnection, req: http.IncomingMessage, verdict: Extract<RequestVerdict, { kind: 'deny' }>): void {
  conn.log.info({
    source: conn.peer ?? 'unauthenticated', method: req.method, path: clip(verdict.path, 1024), policy: verdict.decision.policy, reason: verdict.decision.reason,
  }, 'request denied');
}

/** The request line and headers as received (llhttp already validated them), the peer identity header ours alone. */
function requestHead(req: http.IncomingMessage, peer: string | undefined): Buffer {
  let head = `${req.method} ${req.url} HTTP/${req.httpVersion}\r\n`;
  for (let i = 0; i + 1 < req.rawHeaders.length; i += 2) {
    if ((req.rawHeaders[i] as string).toLowerCase() === PEER_IDENTITY_HEADER) continue;
    head += `${req.rawHeaders[i]}: ${req.rawHeaders[i + 1]}\r\n`;
  }
  if (peer !== undefined) head += `${PEER_IDENTITY_HEADER}: ${peer}\r\n`;
  return Buffer.from(`${head}\r\n`, 'latin1');
}

/** Client-chosen values in log lines are bounded (a 16 KiB path per request would flood the logs). */
function clip(value: string | undefined, max: number): string | undefined {
  return value === undefined || value.length <= max ? value : `${value.slice(0, max)}…`;
}
