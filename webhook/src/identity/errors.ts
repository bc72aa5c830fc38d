// Why skein-cp refused to certify (or to stream discovery to) a caller: a gRPC status for the caller and
// a stable reason for the refusals counter and the log line. The message says what was wrong and what
// to do; it never contains the token.
import { status } from '@grpc/grpc-js';

export type RefusalReason =
  | 'no_token' | 'bad_token' | 'expired' | 'wrong_audience' | 'not_service_account'
  | 'unknown_pod' | 'replaced_pod'
  | 'bad_csr' | 'csr_signature' | 'unsupported_key' | 'oversized'
  | 'rate_limited' | 'ca_not_ready';

const CODES: Record<RefusalReason, status> = {
  no_token: status.UNAUTHENTICATED,
  bad_token: status.UNAUTHENTICATED,
  expired: status.UNAUTHENTICATED,
  wrong_audience: status.UNAUTHENTICATED,
  not_service_account: status.UNAUTHENTICATED,
  unknown_pod: status.PERMISSION_DENIED,
  replaced_pod: status.PERMISSION_DENIED,
  bad_csr: status.INVALID_ARGUMENT,
  csr_signature: status.INVALID_ARGUMENT,
  unsupported_key: status.INVALID_ARGUMENT,
  oversized: status.INVALID_ARGUMENT,
  rate_limited: status.RESOURCE_EXHAUSTED,
  ca_not_ready: status.UNAVAILABLE,
};

export class CertifyRefusal extends Error {
  readonly code: status;
  constructor(readonly reason: RefusalReason, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'CertifyRefusal';
    this.code = CODES[reason];
  }
}

export function isCertifyRefusal(err: unknown): err is CertifyRefusal {
  return err instanceof CertifyRefusal;
}
