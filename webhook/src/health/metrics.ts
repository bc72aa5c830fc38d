// The one Prometheus registry of skein-cp: prom-client default process metrics, the admission metrics
// (admission/, registered by the caller) and the few gauges of the process itself.
import { Counter, Gauge, Registry, collectDefaultMetrics } from 'prom-client';

export interface CpMetrics {
  readonly registry: Registry;
  readonly certExpiry: Gauge;
  readonly certRotations: Counter<'result'>;
  readonly leader: Gauge;
  readonly ready: Gauge;
}

export function createCpMetrics(version: string): CpMetrics {
  const registry = new Registry();
  registry.setDefaultLabels({});
  collectDefaultMetrics({ register: registry });
  const info = new Gauge({ name: 'skein_cp_info', help: 'skein-cp build information', labelNames: ['version'], registers: [registry] });
  info.set({ version }, 1);
  return {
    registry,
    certExpiry: new Gauge({
      name: 'skein_cp_serving_cert_expiry_timestamp_seconds',
      help: 'notAfter of the serving certificate in use (Unix seconds)',
      registers: [registry],
    }),
    certRotations: new Counter({
      name: 'skein_cp_serving_cert_rotations_total',
      help: 'Serving certificate rotations, by result',
      labelNames: ['result'] as const,
      registers: [registry],
    }),
    leader: new Gauge({
      name: 'skein_cp_leader',
      help: '1 while this replica holds the skein-cp-leader Lease (always 1 in local mode)',
      registers: [registry],
    }),
    ready: new Gauge({ name: 'skein_cp_ready', help: '1 when /readyz answers 200', registers: [registry] }),
  };
}
