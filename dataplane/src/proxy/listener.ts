// A capture listener (15001 or 15006): the net.Server, its live connections and its HTTP path, shared
// shape for both directions so lifecycle code can drain either one.
import net from 'node:net';
import type { Logger } from 'pino';
import type { RunConfig } from '../config/index.js';
import type { Direction, Metrics } from '../metrics/index.js';
import type { OrigDstResolver } from '../transport/resolver.js';
import { createHttpPath, type HttpPath } from '../http/server.js';
import type { UpstreamPools } from '../http/pool.js';
import type { DiscoveryProvider } from '../discovery/index.js';
import type { Mtls } from '../mtls/index.js';
import { shedOverLimit } from '../resilience/shed.js';

export interface PipelineDeps {
  config: RunConfig;
  resolver: OrigDstResolver;
  ownPorts: () => ReadonlySet<number>;
  log: Logger;
  metrics: Metrics;
  pools: UpstreamPools;
  isDraining: () => boolean;
  /**
   * With a control plane: mTLS between sidecars and routes from discovery (inbound/mesh.ts,
   * outbound/mesh.ts). Without it (standalone) both directions behave as before the mesh existed.
   */
  mesh?: { mtls: Mtls; discovery: DiscoveryProvider };
}

export interface CaptureListener {
  direction: Direction;
  server: net.Server;
  connections: Set<net.Socket>;
  http: HttpPath;
}

/** Creates the listener; `handle` is the direction's pipeline, called once per accepted socket. */
export function createCaptureListener(
  direction: Direction, deps: PipelineDeps,
  handle: (socket: net.Socket, listener: CaptureListener) => Promise<void>,
): CaptureListener {
  // allowHalfOpen: a client's FIN must not close our side before the upstream's answer went back (N1).
  const server = net.createServer({ allowHalfOpen: true, noDelay: true });
  const listener: CaptureListener = {
    direction, server, connections: new Set(),
    http: createHttpPath({
      direction, pools: deps.pools, metrics: deps.metrics, log: deps.log, responseTimeoutMs: deps.config.responseTimeoutMs,
      idleTimeoutMs: deps.config.idleTimeoutMs, connectTimeoutMs: deps.config.connectTimeoutMs, isDraining: deps.isDraining,
      accessLog: deps.config.accessLog,
    }),
  };
  const maxConnections = deps.config.maxConnections;
  server.on('connection', (socket) => {
    if (shedOverLimit(socket, listener.connections.size, maxConnections)) return void deps.metrics.shedConnections.inc({ direction });
    handle(socket, listener).catch((err: unknown) => {
      deps.log.error({ err: (err as Error).message }, 'pipeline failed');
      socket.destroy();
    });
  });
  server.on('error', (err) => deps.log.error({ err: err.message }, 'listener error'));
  return listener;
}
