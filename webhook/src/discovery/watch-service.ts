// Discovery.Watch: one server stream per sidecar. The caller proves who it is with its projected token
// (the same TokenVerifier as Identity.Certify); the token must be bound to the pod the request names.
// The stream gets a full snapshot as soon as that pod is in the cluster view, then a new one only when
// the content of its snapshot changed, at most one per 100 ms, and nothing when the version it already
// has (last_version) is the current one.
//
// Cost: a change (or a burst of them) schedules one recompute: after 10 ms, and at most one per 100 ms
// (or per 4 × the last recompute's duration, if longer) while changes keep coming. A recompute builds the caller-independent part (services, workloads) once
// (SnapshotBuilder) and then, per stream, only the caller's own `self` and a hash; a stream whose
// version did not move is not written to. So an event storm costs O(cluster) per 100 ms plus
// O(streams) small work, not O(cluster × streams) per event.
import * as grpc from '@grpc/grpc-js';
import { DiscoveryService as DISCOVERY_SERVICE, type DiscoveryServer, type discovery } from '@skein/api';
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import { CertifyRefusal, isCertifyRefusal } from '../identity/errors.js';
import type { TokenVerifier, WorkloadIdentity } from '../identity/types.js';
import type { Logger } from '../log.js';
import { encodeSnapshot, SnapshotBuilder } from './snapshot.js';
import { objectKey, type ClusterSource, type KindName } from './types.js';

/** Coalescing: a stream is written at most once per this interval. */
export const MIN_PUSH_INTERVAL_MS = 100;
/** A change is acted on after this much quiet, so that one write burst makes one recompute. */
const SETTLE_MS = 10;

export interface DiscoveryDeps {
  readonly source: ClusterSource;
  readonly verifier: TokenVerifier;
  readonly trustDomain: string;
  readonly trustAnchors: () => string[];
  readonly onTrustAnchorsChange: (listener: () => void) => () => void;
  readonly log: Logger;
  readonly metrics: { readonly registry: Registry };
}

export type DiscoveryService = DiscoveryServer & { closeAll(): void };

/**
 * skein.v1.Discovery with a response serializer that reuses the shared part's bytes of each snapshot
 * (encodeSnapshot): `server.addService(DISCOVERY_SERVICE_DEFINITION, createDiscoveryService(...))`.
 * The wire format is the same as DiscoveryService's.
 */
export const DISCOVERY_SERVICE_DEFINITION = {
  ...DISCOVERY_SERVICE,
  watch: { ...DISCOVERY_SERVICE.watch, responseSerialize: (value: discovery.Snapshot): Buffer => encodeSnapshot(value) },
} as const;

type Call = grpc.ServerWritableStream<discovery.WatchRequest, discovery.Snapshot>;

interface Stream {
  readonly call: Call;
  readonly namespace: string;
  readonly podName: string;
  readonly identity: WorkloadIdentity;
  readonly log: Logger;
  sentVersion: string;
  lastPushAt: number;
  /** A write waits for the 100 ms interval or for 'drain'. */
  timer: NodeJS.Timeout | undefined;
  waitingDrain: boolean;
  closed: boolean;
  /** The oldest change this stream has not been sent yet (a deferred push keeps it). */
  pendingSince: number | undefined;
}

/** Sources may count their events by kind (both of Skein's do). */
interface CountingSource { eventCounts?(): Readonly<Partial<Record<KindName, number>>> }

function metricsOf(registry: Registry, streams: () => number, source: ClusterSource): { pushes: Counter; pushSeconds: Histogram; invalidLb: Counter } {
  // A service created again on the same registry (mesh services restarted in-process) replaces its metrics.
  for (const n of ['skein_cp_snapshot_pushes_total', 'skein_cp_snapshot_push_seconds', 'skein_cp_connected_sidecars', 'skein_cp_informer_events_total', 'skein_cp_invalid_load_balancer_total']) {
    if (registry.getSingleMetric(n)) registry.removeSingleMetric(n);
  }
  new Gauge({
    name: 'skein_cp_connected_sidecars', help: 'Open Discovery.Watch streams (verified sidecars)', registers: [registry],
    collect() { this.set(streams()); },
  });
  new Counter({
    name: 'skein_cp_informer_events_total', help: 'Changes seen by the cluster source, by kind', labelNames: ['kind'] as const, registers: [registry],
    collect() {
      const counts = (source as CountingSource).eventCounts?.() ?? {};
      this.reset();
      for (const [kind, n] of Object.entries(counts)) this.inc({ kind }, n);
    },
  });
  return {
    pushes: new Counter({ name: 'skein_cp_snapshot_pushes_total', help: 'Snapshots written to sidecars', registers: [registry] }),
    invalidLb: new Counter({
      name: 'skein_cp_invalid_load_balancer_total', help: 'Invalid skein.io/load-balancer annotations seen (once per change), round robin used', registers: [registry],
    }),
    pushSeconds: new Histogram({
      name: 'skein_cp_snapshot_push_seconds', help: 'From a cluster change to the write of the snapshot it caused, seconds',
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5], registers: [registry],
    }),
  };
}

function refusalStatus(err: unknown): { code: grpc.status; details: string; reason: string } {
  if (isCertifyRefusal(err)) return { code: err.code, details: err.message, reason: err.reason };
  return { code: grpc.status.UNAVAILABLE, details: `skein-cp could not verify the token (${(err as Error).message}); retry`, reason: 'verifier_error' };
}

export function createDiscoveryService(deps: DiscoveryDeps): DiscoveryService {
  const { source, verifier, log } = deps;
  const streams = new Set<Stream>();
  const m = metricsOf(deps.metrics.registry, () => streams.size, source);
  const builder = new SnapshotBuilder({
    onInvalidLoadBalancer: ({ service, annotation }) => {
      m.invalidLb.inc();
      log.warn({ service, annotation }, 'invalid skein.io/load-balancer annotation: round robin used; write round-robin, least-request, weighted, hash:header:<name>, hash:cookie:<name> or hash:source-ip');
    },
  });
  /** When the oldest change not yet pushed happened (for skein_cp_snapshot_push_seconds). */
  let changeAt: number | undefined;
  let recomputeTimer: NodeJS.Timeout | undefined;
  let lastRecompute = 0;
  /** How long the last recompute took: the next one waits at least 4 × that (≤ 25 % of a core in a storm). */
  let lastRecomputeMs = 0;
  let closedAll = false;

  function fail(call: Call, code: grpc.status, details: string): void {
    call.emit('error', { code, details, metadata: new grpc.Metadata() });
  }

  function close(s: Stream): void {
    if (s.closed) return;
    s.closed = true;
    if (s.timer) clearTimeout(s.timer);
    streams.delete(s);
    s.log.info({ streams: streams.size }, 'discovery stream closed');
  }

  /** Writes the caller's current snapshot if it differs from what it has; respects the interval. */
  function push(s: Stream): void {
    if (s.closed || s.waitingDrain) return;
    const state = source.state();
    const key = objectKey(s.namespace, s.podName);
    const pod = state.pods.get(key);
    if (!pod) return; // not known yet: the first snapshot goes out when it appears
    const uid = pod.metadata?.uid ?? '';
    if (s.identity.pod?.uid && uid !== '' && uid !== s.identity.pod.uid) {
      s.log.warn({ reason: 'replaced_pod' }, 'discovery stream refused: the pod was replaced by another with the same name');
      fail(s.call, grpc.status.PERMISSION_DENIED, `pod ${key} is no longer the pod the token was issued for (UID changed); get a new token`);
      close(s);
      return;
    }
    const snap = builder.build(state, { namespace: s.namespace, podName: s.podName }, { trustDomain: deps.trustDomain, trustAnchorsPem: deps.trustAnchors() });
    if (snap.version === s.sentVersion) {
      s.pendingSince = undefined;
      return;
    }
    s.pendingSince ??= changeAt;
    const wait = s.lastPushAt + MIN_PUSH_INTERVAL_MS - Date.now();
    if (wait > 0) {
      s.timer ??= setTimeout(() => { s.timer = undefined; safePush(s); }, wait);
      return;
    }
    const ok = s.call.write(snap);
    s.sentVersion = snap.version;
    s.lastPushAt = Date.now();
    m.pushes.inc();
    if (s.pendingSince !== undefined) m.pushSeconds.observe((s.lastPushAt - s.pendingSince) / 1000);
    s.pendingSince = undefined;
    s.log.debug({ version: snap.version, services: snap.services.length, workloads: snap.workloads.length }, 'snapshot sent');
    if (!ok) {
      // A slow reader: nothing is queued behind this write; the latest snapshot goes when it drains.
      s.waitingDrain = true;
      s.call.once('drain', () => { s.waitingDrain = false; safePush(s); });
    }
  }

  /** push(), and a failure ends only this stream (the sidecar reconnects), never the process. */
  function safePush(s: Stream): void {
    try {
      push(s);
    } catch (err) {
      s.log.error({ err }, 'building or sending a snapshot failed; the stream is closed so that the sidecar reconnects');
      fail(s.call, grpc.status.INTERNAL, `skein-cp failed to build the snapshot: ${(err as Error).message}`);
      close(s);
    }
  }

  function recompute(): void {
    recomputeTimer = undefined;
    lastRecompute = Date.now();
    for (const s of [...streams]) safePush(s);
    changeAt = undefined;
    lastRecomputeMs = Date.now() - lastRecompute;
  }

  function changed(): void {
    changeAt ??= Date.now();
    if (recomputeTimer) return;
    const delay = Math.max(SETTLE_MS, lastRecompute + Math.max(MIN_PUSH_INTERVAL_MS, 4 * lastRecomputeMs) - Date.now());
    recomputeTimer = setTimeout(recompute, delay);
  }

  const offSource = source.onChange(changed);
  const offAnchors = deps.onTrustAnchorsChange(changed);

  async function watch(call: Call): Promise<void> {
    const req = call.request;
    const who = { podNamespace: req.podNamespace, podName: req.podName, podIp: req.podIp };
    if (closedAll) {
      fail(call, grpc.status.UNAVAILABLE, 'skein-cp is shutting down; reconnect to another replica or after its restart');
      return;
    }
    let identity: WorkloadIdentity;
    try {
      if (req.token === '') throw new CertifyRefusal('no_token', "no token in the request: send the pod's projected service account token (audience skein-cp)");
      identity = await verifier.verify(req.token);
    } catch (err) {
      const st = refusalStatus(err);
      log.warn({ ...who, reason: st.reason }, `discovery stream refused: ${st.details}`);
      fail(call, st.code, st.details);
      return;
    }
    if (identity.namespace !== req.podNamespace || identity.pod?.name !== req.podName) {
      const details = `the token belongs to ${identity.pod ? `pod ${identity.namespace}/${identity.pod.name}` : `service account ${identity.namespace}/${identity.serviceAccount} (not bound to a pod)`}, not to pod ${req.podNamespace}/${req.podName}`;
      log.warn({ ...who, reason: 'wrong_pod', spiffeId: identity.spiffeId }, `discovery stream refused: ${details}`);
      fail(call, grpc.status.PERMISSION_DENIED, details);
      return;
    }
    if (call.cancelled || closedAll) return;
    const s: Stream = {
      call, namespace: req.podNamespace, podName: req.podName, identity,
      log: log.child({ pod: `${req.podNamespace}/${req.podName}`, spiffeId: identity.spiffeId }),
      sentVersion: req.lastVersion, lastPushAt: 0, timer: undefined, waitingDrain: false, closed: false, pendingSince: undefined,
    };
    streams.add(s);
    call.on('cancelled', () => close(s));
    call.on('close', () => close(s));
    call.on('error', () => close(s));
    s.log.info({ streams: streams.size, lastVersion: req.lastVersion || undefined }, 'discovery stream opened');
    safePush(s);
  }

  return {
    watch: (call: Call) => void watch(call),
    closeAll: () => {
      closedAll = true;
      offSource();
      offAnchors();
      if (recomputeTimer) clearTimeout(recomputeTimer);
      recomputeTimer = undefined;
      for (const s of [...streams]) {
        fail(s.call, grpc.status.UNAVAILABLE, 'skein-cp is shutting down; reconnect to another replica or after its restart');
        close(s);
      }
    },
  };
}
