// Counts every admission answer with the reason behind it (as Kuma does), and how long it took.
import { Counter, Histogram, type Registry } from 'prom-client';

/** inject | skip | reject (AdmissionReview answers) | error (HTTP 4xx/5xx, no review sent back). */
export type AdmissionOutcome = 'inject' | 'skip' | 'reject' | 'error';

export class AdmissionMetrics {
  readonly admissions: Counter<'decision' | 'reason'>;
  readonly duration: Histogram<'decision'>;

  constructor(registry: Registry) {
    this.admissions = new Counter({
      name: 'skein_admissions_total',
      help: 'Admission requests answered by the injector webhook, by decision and reason.',
      labelNames: ['decision', 'reason'],
      registers: [registry],
    });
    this.duration = new Histogram({
      name: 'skein_admission_duration_seconds',
      help: 'Time from receiving an admission request to sending the answer.',
      labelNames: ['decision'],
      // The API server's default timeout is 10 s; the interesting range is well below it.
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
      registers: [registry],
    });
  }

  record(decision: AdmissionOutcome, reason: string, seconds: number): void {
    this.admissions.inc({ decision, reason });
    this.duration.observe({ decision }, seconds);
  }
}
