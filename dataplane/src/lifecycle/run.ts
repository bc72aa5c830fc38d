// `skein-dp run`: wires config → listeners → admin/health, and owns drain and shutdown (reliability L1):
// on SIGTERM or POST /drain the inbound listener (15006) closes, idle keep-alives are closed and every
// response says Connection: close, while the outbound listener (15001) keeps serving the app as it shuts
// down; on SIGTERM the process then exits once no connection is left (but not before --drain-min), or
// after --drain-timeout.
import type http from 'node:http';
import type { RunConfig } from '../config/index.js';
import type { LogControl } from '../log/index.js';
import { createMetrics, type Metrics } from '../metrics/index.js';
import { UpstreamPools } from '../http/pool.js';
import { createInbound } from '../inbound/index.js';
import { createOutbound } from '../outbound/index.js';
import { createAdminServer } from '../admin/server.js';
import { createHealthServer } from '../health/server.js';
import { listen, listenDualStack, stopListening, type BoundAddress } from '../transport/listen.js';
import { fixedResolver, loadOrigDstResolver, type OrigDstResolver } from '../transport/resolver.js';
import type { CaptureListener, PipelineDeps } from '../proxy/listener.js';
import type { MeshClient } from '../discovery/index.js';
import type { Mtls } from '../mtls/index.js';
import { ProxyState } from './state.js';

export interface Addresses { outbound: BoundAddress; inbound: BoundAddress; admin: BoundAddress; health: BoundAddress }

export interface RunningProxy {
  addresses: Addresses;
  state: ProxyState;
  metrics: Metrics;
  /** Stop taking inbound work; keep running (POST /drain, first step of SIGTERM). Idempotent. */
  drain(): void;
  /**
   * Drain, wait until idle (and at least `minMs`, default --drain-min capped by the grace) or `graceMs`
   * (default --drain-timeout), then close everything.
   */
  shutdown(graceMs?: number, minMs?: number): Promise<void>;
  /** Resolves once the proxy has stopped (after shutdown, also one started by POST /quitquitquit). */
  stopped: Promise<void>;
  activeConnections(): number;
  /** Bytes queued in the proxy for its downstream clients (socket writableLength): bounded by backpressure. */
  bufferedBytes(): number;
}

export interface StartOptions {
  logs: LogControl;
  /** Injected by tests; otherwise SO_ORIGINAL_DST through the native addon. */
  resolver?: OrigDstResolver;
}

export async function startProxy(config: RunConfig, options: StartOptions): Promise<RunningProxy> {
  const { logs } = options;
  const log = logs.component('proxy');
  const state = new ProxyState();
  const metrics = createMetrics({ defaultMetrics: true });
  const resolver = options.resolver ??
    (config.origDstOverride ? fixedResolver(config.origDstOverride) : loadOrigDstResolver());
  const pools = new UpstreamPools({
    maxSocketsPerUpstream: config.maxSocketsPerUpstream, maxPools: config.maxUpstreamPools, connectTimeoutMs: config.connectTimeoutMs,
    maxPendingRequests: config.maxPendingRequests,
  });
  const bound: Partial<Addresses> = {};
  const ownPorts = new Set<number>();
  const mesh = config.controlPlane.address ? await startMesh(config, logs, metrics, state) : undefined;
  const deps: PipelineDeps = {
    config, resolver, metrics, pools, log, ownPorts: () => ownPorts, isDraining: () => state.isDraining(),
    ...(mesh ? { mesh: { mtls: mesh.mtls, discovery: mesh.client.discovery } } : {}),
  };
  const outbound = createOutbound(deps);
  const inbound = createInbound(deps);
  let resolveStopped!: () => void;
  const stopped = new Promise<void>((resolve) => { resolveStopped = resolve; });
  let shuttingDown: Promise<void> | undefined;
  let idleSweep: NodeJS.Timeout | undefined;
  const listeners: CaptureListener[] = [outbound, inbound];
  const activeConnections = (): number => outbound.connections.size + inbound.connections.size;

  const drain = (): void => {
    if (state.isDraining()) return;
    state.markDraining();
    log.info({ inbound: inbound.connections.size, outbound: outbound.connections.size }, 'draining: inbound listener closed');
    stopListening(inbound.server);
    // Keep-alive connections that become idle after their last response are closed by that response
    // (Connection: close); this sweep catches the ones that were idle already.
    const sweep = (): void => { for (const l of listeners) l.http.closeIdle(); pools.closeIdle(); };
    sweep();
    idleSweep = setInterval(sweep, 500);
    idleSweep.unref();
  };

  const shutdown = (graceMs = config.drainTimeoutMs, minMs = Math.min(config.drainMinMs, graceMs)): Promise<void> => {
    shuttingDown ??= (async () => {
      drain();
      const deadline = Date.now() + graceMs;
      const earliest = Date.now() + minMs;
      const busy = (): boolean => activeConnections() > 0 || Date.now() < earliest;
      while (busy() && Date.now() < deadline) await delay(Math.min(100, Math.max(1, deadline - Date.now())));
      const left = activeConnections();
      log.info({ left, timedOut: left > 0 }, left > 0 ? 'drain timeout: closing remaining connections' : 'drained');
      clearInterval(idleSweep);
      for (const l of listeners) {
        stopListening(l.server);
        l.http.close();
        for (const socket of l.connections) socket.destroy();
      }
      pools.destroy();
      mesh?.mtls.stop();
      mesh?.client.stop();
      state.markStopped();
      await Promise.all([closeServer(admin), closeServer(health)]);
      log.info('stopped');
      resolveStopped();
    })();
    return shuttingDown;
  };

  const admin = createAdminServer({
    config, state, metrics, logs, log: logs.component('admin'),
    listeners: () => ({ ...bound }), drain, quit: () => void shutdown(0),
    ...(mesh ? { mesh: () => ({ identity: mesh.client.identity, discovery: mesh.client.discovery }) } : {}),
  });
  const health = createHealthServer({
    state, metrics, probes: config.probes, probeHost: config.podIP ?? '127.0.0.1', log: logs.component('health'),
  });

  bound.admin = await listen(admin, config.ports.admin, config.adminAddress);
  bound.health = await listen(health, config.ports.health, config.healthAddress);
  bound.outbound = await listenDualStack(outbound.server, config.ports.outbound, config.bindAddress);
  bound.inbound = await listenDualStack(inbound.server, config.ports.inbound, config.bindAddress);
  for (const address of Object.values(bound)) ownPorts.add(address.port);
  for (const [name, address] of Object.entries(bound)) log.info({ listener: name, ...address }, 'listening');
  state.markReady();
  if (mesh) {
    void mesh.client.whenReady().then(() => log.info({ pod: config.pod, identity: mesh.mtls.identity(), opaquePorts: [...config.opaquePorts], mode: 'mesh' }, 'ready'));
  } else {
    log.info({ pod: config.pod, opaquePorts: [...config.opaquePorts], mode: 'standalone (no control plane, no mTLS)' }, 'ready');
  }
  const bufferedBytes = (): number => {
    let n = 0;
    for (const l of listeners) for (const socket of l.connections) n += socket.writableLength;
    return n;
  };
  return { addresses: bound as Addresses, state, metrics, drain, shutdown, stopped, activeConnections, bufferedBytes };
}

/**
 * With SKEIN_CP_ADDRESS: the certificate and discovery clients, and mTLS built on them. Loaded lazily, so
 * a standalone sidecar loads none of it. The proxy is ready only with a valid certificate and a snapshot.
 */
async function startMesh(config: RunConfig, logs: LogControl, metrics: Metrics, state: ProxyState): Promise<{ client: MeshClient; mtls: Mtls }> {
  const [{ startMeshClient }, { createMtls }] = await Promise.all([import('../discovery/index.js'), import('../mtls/index.js')]);
  const client = await startMeshClient({ config, log: logs.component('mesh'), metrics });
  const mtls = createMtls({ identity: client.identity, discovery: client.discovery, log: logs.component('mtls'), metrics });
  state.requireAlso(() => {
    const cert = client.identity.current();
    if (!cert) return 'no certificate yet: waiting for skein-cp (Identity.Certify)';
    if (cert.notAfter.getTime() <= Date.now()) return `certificate expired at ${cert.notAfter.toISOString()}: skein-cp has been unreachable`;
    if (!client.discovery.current()) return 'no discovery snapshot yet: waiting for skein-cp (Discovery.Watch)';
    return undefined;
  });
  return { client, mtls };
}

function closeServer(server: http.Server): Promise<void> {
  return new Promise((resolve) => {
    server.closeAllConnections();
    server.close(() => resolve());
  });
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
