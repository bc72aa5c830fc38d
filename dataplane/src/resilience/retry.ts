// Which failed attempts may be retried on another endpoint (issue 9, resilience): a request that never
// reached the upstream (connect failure, refused) always; otherwise only an idempotent one whose body was
// not sent (GET, HEAD, OPTIONS, PUT, DELETE), and only on a connection failure or a 503. Whether the retry
// happens is then the RetryBudget's call (budget.ts), at most `maxAttempts` (2) attempts in all.

export type AttemptFailure = 'connect' | 'connection' | 'status';

const IDEMPOTENT = new Set(['GET', 'HEAD', 'OPTIONS', 'PUT', 'DELETE']);

export const DEFAULT_MAX_ATTEMPTS = 2;

/**
 * `failure`: 'connect' = the upstream was never reached; 'connection' = the connection broke after the
 * request was sent; 'status' = the upstream answered `status`.
 */
export function mayRetry(method: string, bodySent: boolean, failure: AttemptFailure, status = 0): boolean {
  if (failure === 'connect') return true;
  if (failure === 'status' && status !== 503) return false;
  return IDEMPOTENT.has(method) && !bodySent;
}
