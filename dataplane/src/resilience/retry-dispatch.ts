// The retry of one outbound HTTP request to a Service (issue 9, resilience): when an attempt fails before
// any response byte went to the client, and retry.ts allows it (never reached the upstream; or an
// idempotent request without a body whose connection broke), and the Service's retry budget has room,
// the request is sent again to another endpoint (balance/http.ts reapply: the failed ones excluded), at
// most DEFAULT_MAX_ATTEMPTS attempts in all. Only body-less requests are retried (the fast path keeps no
// copy of a body). An answer can be a failure too (RetryableAnswer): a peer sidecar's 502/504 saying its
// app refused the connection (the killed-server case), or a 503 for an idempotent request.
import type http from 'node:http';
import { errorCode } from '../errors.js';
import type { Balanced } from '../balance/types.js';
import type { BalancedConnection } from '../balance/http.js';
import { RetryBudget } from './budget.js';
import { DEFAULT_MAX_ATTEMPTS, mayRetry, type AttemptFailure } from './retry.js';

/** What the retry needs of the connection's balancer (balance/http.ts RequestBalancer). */
export interface Rebalancer<E extends Balanced> {
  reapply(req: http.IncomingMessage, res: http.ServerResponse, conn: BalancedConnection, failed: ReadonlySet<E>): E | undefined;
  pickedFor(res: http.ServerResponse): E | undefined;
}

/**
 * An attempt's answer that is itself a failure worth a retry, seen in the response head: a peer sidecar's
 * 502/504 whose x-skein-error says its app was never reached (refused, connect timeout), or a 503. The
 * exchange aborts the attempt with this error instead of relaying the answer.
 */
export class RetryableAnswer extends Error {
  constructor(readonly failure: AttemptFailure, readonly status: number) {
    super(`the upstream answered ${status} (${failure})`);
  }
}

/** x-skein-error values of a peer sidecar that mean the request never reached its app. */
const PEER_NEVER_REACHED = new Set(['upstream_refused', 'upstream_connect_timeout', 'upstream_unreachable']);
/** …and that mean its app's connection broke before it answered (retried only when idempotent). */
const PEER_CONNECTION_BROKE = new Set(['upstream_reset']);

/** The retryable failure a response head means, or undefined to relay it. `skeinError`: its x-skein-error. */
export function retryableAnswer(status: number, skeinError: string | undefined): RetryableAnswer | undefined {
  if ((status === 502 || status === 504) && skeinError !== undefined && PEER_NEVER_REACHED.has(skeinError)) return new RetryableAnswer('connect', status);
  if (status === 502 && skeinError !== undefined && PEER_CONNECTION_BROKE.has(skeinError)) return new RetryableAnswer('connection', status);
  if (status === 503) return new RetryableAnswer('status', 503);
  return undefined;
}

/** Errors that mean the upstream was never reached (nothing of the request was sent). */
const NEVER_REACHED = new Set(['ECONNREFUSED', 'upstream_connect_timeout', 'EHOSTUNREACH', 'ENETUNREACH', 'EADDRNOTAVAIL', 'upstream_tls_failed']);

export function attemptFailure(err: unknown): AttemptFailure {
  if (err instanceof RetryableAnswer) return err.failure;
  return NEVER_REACHED.has(errorCode(err)) ? 'connect' : 'connection';
}

/** One budget per Service port (by its key, "ns/name:port"); a few hundred at most. */
const budgets = new Map<string, RetryBudget>();
export function budgetFor(key: string): RetryBudget {
  let b = budgets.get(key);
  if (!b) budgets.set(key, (b = new RetryBudget()));
  return b;
}

export interface RetryContext<E extends Balanced> {
  req: http.IncomingMessage;
  res: http.ServerResponse;
  conn: BalancedConnection;
  balance: Rebalancer<E>;
  budget: RetryBudget;
  /** Sends the request again on conn.target (the fast path's dispatch); false when it could not (overflow). */
  resend(): boolean;
  onRetry(result: 'sent' | 'not_allowed' | 'budget' | 'no_endpoint'): void;
}

/** Builds the retry hook of one request; call it with the error of a failed attempt. */
export function retryHook<E extends Balanced>(ctx: RetryContext<E>): (err: Error) => boolean {
  let attempts = 1;
  let failed: Set<E> | undefined; // made on the first failure only: most requests never need it
  ctx.budget.request();
  return (err) => {
    const status = err instanceof RetryableAnswer ? err.status : 0;
    if (attempts >= DEFAULT_MAX_ATTEMPTS || !mayRetry(ctx.req.method ?? '', false, attemptFailure(err), status)) {
      ctx.onRetry('not_allowed');
      return false;
    }
    if (!ctx.budget.tryRetry()) { ctx.onRetry('budget'); return false; }
    failed ??= new Set<E>();
    const current = ctx.balance.pickedFor(ctx.res);
    if (current) failed.add(current);
    if (!ctx.balance.reapply(ctx.req, ctx.res, ctx.conn, failed)) { ctx.onRetry('no_endpoint'); return false; }
    attempts++;
    if (!ctx.resend()) return false;
    ctx.onRetry('sent');
    return true;
  };
}
