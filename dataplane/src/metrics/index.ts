// Prometheus metrics of one proxy instance (own Registry, so tests can run several proxies in one process).
// May import prom-client only. Label values are bounded sets (direction, protocol, status class, reason,
// error code) — never a path, authority or address (reliability D3: attacker-chosen values must not grow
// the series count).
import { Counter, Gauge, Registry, collectDefaultMetrics } from 'prom-client';

export type Direction = 'inbound' | 'outbound';
export type Protocol = 'http1' | 'h2' | 'tls' | 'opaque';

export interface Metrics {
  registry: Registry;
  connections: Counter<'direction' | 'protocol'>;
  activeConnections: Gauge<'direction'>;
  bytes: Counter<'direction' | 'flow'>;
  httpRequests: Counter<'direction' | 'status_class'>;
  detections: Counter<'direction' | 'protocol' | 'reason'>;
  errors: Counter<'direction' | 'code'>;
  refused: Counter<'direction' | 'reason'>;
}

export function createMetrics(options: { defaultMetrics?: boolean } = {}): Metrics {
  const registry = new Registry();
  if (options.defaultMetrics) collectDefaultMetrics({ register: registry, prefix: 'skein_dp_' });
  const registers = [registry];
  return {
    registry,
    connections: new Counter({
      name: 'skein_dp_connections_total', help: 'Connections accepted, by direction and detected protocol',
      labelNames: ['direction', 'protocol'], registers,
    }),
    activeConnections: new Gauge({
      name: 'skein_dp_connections_active', help: 'Connections open now', labelNames: ['direction'], registers,
    }),
    bytes: new Counter({
      name: 'skein_dp_bytes_total',
      help: 'Bytes proxied; flow=rx is read from the downstream client, tx is written to it',
      labelNames: ['direction', 'flow'], registers,
    }),
    httpRequests: new Counter({
      name: 'skein_dp_http_requests_total', help: 'HTTP requests by response status class (1xx…5xx)',
      labelNames: ['direction', 'status_class'], registers,
    }),
    detections: new Counter({
      name: 'skein_dp_protocol_detections_total', help: 'Protocol detection outcomes with the reason',
      labelNames: ['direction', 'protocol', 'reason'], registers,
    }),
    errors: new Counter({
      name: 'skein_dp_errors_total', help: 'Forwarding errors by stable code', labelNames: ['direction', 'code'], registers,
    }),
    refused: new Counter({
      name: 'skein_dp_refused_total', help: 'Connections or requests refused before forwarding, with the reason',
      labelNames: ['direction', 'reason'], registers,
    }),
  };
}

export function statusClass(status: number): string {
  return status >= 100 && status < 600 ? `${Math.floor(status / 100)}xx` : 'other';
}

/** `/stats`: every sample as `name{labels}` → value, a flat JSON object that is easy to diff in e2e dumps. */
export async function statsSnapshot(metrics: Metrics): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const metric of await metrics.registry.getMetricsAsJSON()) {
    if (metric.name.startsWith('skein_dp_process') || metric.name.startsWith('skein_dp_nodejs')) continue;
    for (const sample of metric.values) {
      const labels = Object.entries(sample.labels).map(([k, v]) => `${k}="${String(v)}"`).join(',');
      out[labels ? `${metric.name}{${labels}}` : metric.name] = sample.value;
    }
  }
  return out;
}
