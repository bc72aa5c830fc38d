// Prometheus metrics of one proxy instance (own Registry, so tests can run several proxies in one process).
// May import prom-client only. Label values are bounded sets (direction, protocol, status class, reason,
// error code) — never a path, authority or address (reliability D3: attacker-chosen values must not grow
// the series count).
import { Counter, Gauge, Registry, collectDefaultMetrics, type LabelValues } from 'prom-client';

export type Direction = 'inbound' | 'outbound';
export type Protocol = 'http1' | 'h2' | 'tls' | 'opaque';

export interface Metrics {
  registry: Registry;
  connections: Counter<'direction' | 'protocol'>;
  activeConnections: Gauge<'direction'>;
  /** The workload certificate's notAfter, Unix seconds (identity/): alert on `… - time() < 3600`. */
  certExpiry: Gauge<never>;
  /** Certify calls by result: ok, unavailable (skein-cp away), refused (it said no), invalid (a bad answer), error. */
  certRenewals: Counter<'result'>;
  /** Discovery snapshots applied (discovery/). */
  discoverySnapshots: Counter<never>;
  /** Discovery.Watch streams opened again after an error, an end or a skein-cp restart. */
  discoveryReconnects: Counter<never>;
  bytes: Counter<'direction' | 'flow'>;
  httpRequests: Counter<'direction' | 'status_class'>;
  detections: Counter<'direction' | 'protocol' | 'reason'>;
  errors: Counter<'direction' | 'code'>;
  refused: Counter<'direction' | 'reason'>;
  /** mTLS between sidecars (mtls/): direction outbound = we are the TLS client, inbound = the server. */
  tlsHandshakes: Counter<'direction' | 'alpn' | 'resumed'>;
  tlsHandshakeFailures: Counter<'direction' | 'reason'>;
  /** Authorization decisions (policy/): policy = "<ns>/<name>", default or no-snapshot; outcome allowed, denied, revoked. */
  authzDecisions: Counter<'direction' | 'policy' | 'outcome'>;
  /** Requests answered 503 at once because their upstream pool had --max-pending-requests waiting (resilience/pending.ts). */
  upstreamOverflow: Counter<'direction'>;
  /** Connections reset at accept above a listener's --max-connections (resilience/shed.ts). */
  shedConnections: Counter<'direction'>;
  /** Retry decisions for failed outbound HTTP attempts (resilience/retry-dispatch.ts). */
  retries: Counter<'result'>;
}

/**
 * A counter's series with its labels resolved once (per listener, per status class…): inc() adds to a
 * plain number, and the sum is handed to prom-client when the metrics are read. prom-client's own
 * labels() child hashes and validates the label object on every inc; the hot path pays neither.
 */
export class CounterChild {
  value = 0;
  flushed = 0;
  constructor(readonly labels: LabelValues<string>) {}
  inc(n = 1): void {
    this.value += n;
  }
}

const children = new WeakMap<Counter<string>, Map<string, CounterChild>>();

/** The cached child of `counter` for these labels (the same object for the same label values). */
export function counterChild<T extends string>(counter: Counter<T>, labels: LabelValues<T>): CounterChild {
  let byKey = children.get(counter as Counter<string>);
  if (!byKey) {
    byKey = new Map();
    children.set(counter as Counter<string>, byKey);
  }
  const key = Object.keys(labels).sort().map((k) => `${k}=${String(labels[k as T])}`).join(',');
  let child = byKey.get(key);
  if (!child) {
    child = new CounterChild(labels as LabelValues<string>);
    byKey.set(key, child);
  }
  return child;
}

/** prom-client's collect hook: adds what the children counted since the last read. */
function flushChildren(this: Counter<string>): void {
  const byKey = children.get(this);
  if (!byKey) return;
  for (const child of byKey.values()) {
    const delta = child.value - child.flushed;
    if (delta > 0) {
      child.flushed = child.value;
      this.inc(child.labels, delta);
    }
  }
}

export function createMetrics(options: { defaultMetrics?: boolean } = {}): Metrics {
  const registry = new Registry();
  if (options.defaultMetrics) collectDefaultMetrics({ register: registry, prefix: 'skein_dp_' });
  const registers = [registry];
  return {
    registry,
    connections: new Counter({
      name: 'skein_dp_connections_total', help: 'Connections accepted, by direction and detected protocol',
      labelNames: ['direction', 'protocol'], registers, collect: flushChildren,
    }),
    activeConnections: new Gauge({
      name: 'skein_dp_connections_active', help: 'Connections open now', labelNames: ['direction'], registers,
    }),
    certExpiry: new Gauge({
      name: 'skein_dp_cert_expiry_timestamp_seconds', help: 'notAfter of the workload certificate, Unix seconds (0 = none yet)', registers,
    }),
    certRenewals: new Counter({
      name: 'skein_dp_cert_renewals_total', help: 'Certificate requests to skein-cp by result (ok, unavailable, refused, invalid, error)',
      labelNames: ['result'], registers,
    }),
    discoverySnapshots: new Counter({ name: 'skein_dp_discovery_snapshots_total', help: 'Discovery snapshots applied', registers }),
    discoveryReconnects: new Counter({
      name: 'skein_dp_discovery_reconnects_total', help: 'Discovery streams reopened after an error or end', registers,
    }),
    bytes: new Counter({
      name: 'skein_dp_bytes_total',
      help: 'Bytes proxied; flow=rx is read from the downstream client, tx is written to it',
      labelNames: ['direction', 'flow'], registers, collect: flushChildren,
    }),
    httpRequests: new Counter({
      name: 'skein_dp_http_requests_total', help: 'HTTP requests by response status class (1xx…5xx)',
      labelNames: ['direction', 'status_class'], registers, collect: flushChildren,
    }),
    detections: new Counter({
      name: 'skein_dp_protocol_detections_total', help: 'Protocol detection outcomes with the reason',
      labelNames: ['direction', 'protocol', 'reason'], registers, collect: flushChildren,
    }),
    errors: new Counter({
      name: 'skein_dp_errors_total', help: 'Forwarding errors by stable code', labelNames: ['direction', 'code'], registers, collect: flushChildren,
    }),
    refused: new Counter({
      name: 'skein_dp_refused_total', help: 'Connections or requests refused before forwarding, with the reason',
      labelNames: ['direction', 'reason'], registers, collect: flushChildren,
    }),
    tlsHandshakes: new Counter({
      name: 'skein_tls_handshakes_total', help: 'Completed mTLS handshakes between sidecars, by ALPN and whether a session was resumed',
      labelNames: ['direction', 'alpn', 'resumed'], registers, collect: flushChildren,
    }),
    tlsHandshakeFailures: new Counter({
      name: 'skein_tls_handshake_failures_total', help: 'Refused or failed mTLS handshakes between sidecars, by reason',
      labelNames: ['direction', 'reason'], registers, collect: flushChildren,
    }),
    authzDecisions: new Counter({
      name: 'skein_authz_decisions_total',
      help: 'Authorization decisions on inbound connections and requests, by deciding policy and outcome (allowed, denied, revoked)',
      labelNames: ['direction', 'policy', 'outcome'], registers, collect: flushChildren,
    }),
    upstreamOverflow: new Counter({
      name: 'skein_dp_upstream_overflow_total', help: 'Requests answered 503 at once because their upstream had too many pending requests',
      labelNames: ['direction'], registers,
    }),
    retries: new Counter({
      name: 'skein_dp_retries_total', help: 'Failed outbound HTTP attempts by what happened next: sent (retried on another endpoint), not_allowed, budget, no_endpoint',
      labelNames: ['result'], registers,
    }),
    shedConnections: new Counter({
      name: 'skein_dp_shed_connections_total', help: 'Connections reset at accept because the listener had --max-connections open',
      labelNames: ['direction'], registers,
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
