// The steps both capture listeners share, read straight through: accept → detect → http | tcp. The two
// directions differ only in where a connection goes (inbound: the app on the original address from
// 127.0.0.6; outbound: what discovery says), so each passes that as `targetFor`; with a control plane
// (deps.mesh) each passes its own `meshed` step instead of detect → http | tcp (mTLS, routes, STRICT).
// May import proxy/, detect/, tcp/, errors, metrics.
import type net from 'node:net';
import { detect, type Detected } from '../detect/index.js';
import { outcomeLabel } from '../errors.js';
import type { Direction } from '../metrics/index.js';
import { forwardTcp, type Target, type TcpForwardOptions } from '../tcp/forward.js';
import type { Destination } from '../transport/resolver.js';
import { acceptConnection, type Accepted, type AcceptDeps } from './accept.js';
import { createCaptureListener, type CaptureListener, type PipelineDeps } from './listener.js';

/** A direction's handling of one accepted connection when the sidecar is part of a mesh. */
export type MeshedStep = (accepted: Accepted, listener: CaptureListener) => Promise<void>;

export function createPipeline(
  direction: Direction, deps: PipelineDeps, targetFor: (dst: Destination) => Target, meshed?: MeshedStep,
): CaptureListener {
  const { config } = deps;
  const log = deps.log.child({ direction });
  // Built once per listener, not per connection (hot path).
  let acceptDeps: AcceptDeps | undefined;
  return createCaptureListener(direction, deps, async (socket: net.Socket, listener) => {
    acceptDeps ??= { ...deps, direction, log, connections: listener.connections };
    const accepted = acceptConnection(socket, acceptDeps);
    if (!accepted) return;
    if (meshed) return meshed(accepted, listener);
    // Server-first ports skip detection; elsewhere a silent client costs --detect-timeout, then TCP (N3).
    const detected = await detect(socket, { timeoutMs: config.detectTimeoutMs, opaque: config.opaquePorts.has(accepted.dst.port) });
    recordDetection(deps, direction, accepted, detected);
    if (socket.destroyed) return;
    const target = targetFor(accepted.dst);
    if (detected.protocol === 'http1') return listener.http.accept(socket, { target, log: accepted.log });
    await forwardAccepted(deps, direction, accepted, socket, { target, head: detected.leftover });
  });
}

/** The detection metrics and the summary fields of the connection's closing line. */
export function recordDetection(deps: PipelineDeps, direction: Direction, accepted: Accepted, detected: Pick<Detected, 'protocol' | 'reason'>): void {
  deps.metrics.detections.inc({ direction, protocol: detected.protocol, reason: detected.reason });
  deps.metrics.connections.inc({ direction, protocol: detected.protocol });
  accepted.summary.proto = detected.protocol;
  accepted.summary.detect = detected.reason;
}

/** L4 forwarding of `client` (the accepted socket, or the TLS socket on it) with the outcome counted. */
export async function forwardAccepted(
  deps: PipelineDeps, direction: Direction, accepted: Accepted, client: net.Socket,
  options: Pick<TcpForwardOptions, 'target' | 'head' | 'upstream'>,
): Promise<void> {
  const result = await forwardTcp(client, {
    ...options, idleTimeoutMs: deps.config.idleTimeoutMs, connectTimeoutMs: deps.config.connectTimeoutMs,
    log: accepted.log, report: accepted.summary,
  });
  accepted.summary.outcome = result.outcome;
  if (result.outcome !== 'ok') deps.metrics.errors.inc({ direction, code: outcomeLabel(result.outcome) });
}
