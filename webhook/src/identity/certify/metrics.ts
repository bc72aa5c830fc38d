// What Identity.Certify counts: certificates issued, and refusals by reason (the RefusalReason of
// identity/errors.ts, plus `internal` for a failure on skein-cp's side: TokenReview or pod lookup
// unavailable, a CA error). Label values are fixed strings, never a name from the request.
import { Counter, type Registry } from 'prom-client';
import type { RefusalReason } from '../errors.js';

export type RefusedLabel = RefusalReason | 'internal';

export interface CertifyMetrics {
  readonly issued: Counter;
  readonly refused: Counter<'reason'>;
}

export function createCertifyMetrics(registry: Registry): CertifyMetrics {
  const existing = (name: string) => registry.getSingleMetric(name);
  // A second service on the same registry (tests, a restart of the mesh services) reuses the counters.
  const issued = existing('skein_cp_certificates_issued_total') as Counter | undefined ?? new Counter({
    name: 'skein_cp_certificates_issued_total',
    help: 'Workload certificates signed by Identity.Certify',
    registers: [registry],
  });
  const refused = existing('skein_cp_certificates_refused_total') as Counter<'reason'> | undefined ?? new Counter({
    name: 'skein_cp_certificates_refused_total',
    help: 'Identity.Certify requests refused, by reason (no_token, bad_token, expired, wrong_audience, not_service_account, unknown_pod, replaced_pod, bad_csr, csr_signature, unsupported_key, oversized, rate_limited, ca_not_ready, internal)',
    labelNames: ['reason'],
    registers: [registry],
  });
  return { issued, refused };
}
