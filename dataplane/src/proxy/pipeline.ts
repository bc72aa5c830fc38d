// The steps both capture listeners share, read straight through: accept → detect → http | tcp. The two
// directions differ only in where a connection goes (inbound: the app on the original address from
// 127.0.0.6; outbound: what discovery says), so each passes that as `targetFor`. May import proxy/,
// detect/, tcp/, errors, metrics.
import type net from 'node:net';
import { detect } from '../detect/index.js';
import { outcomeLabel } from '../errors.js';
import type { Direction } from '../metrics/index.js';
import { forwardTcp, type Target } from '../tcp/forward.js';
import type { Destination } from '../transport/resolver.js';
import { acceptConnection, type AcceptDeps } from './accept.js';
import { createCaptureListener, type CaptureListener, type PipelineDeps } from './listener.js';

export function createPipeline(
  direction: Direction, deps: PipelineDeps, targetFor: (dst: Destination) => Target,
): CaptureListener {
  const { config, metrics } = deps;
  const log = deps.log.child({ direction });
  // Built once per listener, not per connection (hot path).
  let acceptDeps: AcceptDeps | undefined;
  return createCaptureListener(direction, deps, async (socket: net.Socket, listener) => {
    acceptDeps ??= { ...deps, direction, log, connections: listener.connections };
    const accepted = acceptConnection(socket, acceptDeps);
    if (!accepted) return;
    // Server-first ports skip detection; elsewhere a silent client costs --detect-timeout, then TCP (N3).
    const detected = await detect(socket, { timeoutMs: config.detectTimeoutMs, opaque: config.opaquePorts.has(accepted.dst.port) });
    metrics.detections.inc({ direction, protocol: detected.protocol, reason: detected.reason });
    metrics.connections.inc({ direction, protocol: detected.protocol });
    accepted.summary.proto = detected.protocol;
    accepted.summary.detect = detected.reason;
    if (socket.destroyed) return;
    const target = targetFor(accepted.dst);
    if (detected.protocol === 'http1') return listener.http.accept(socket, { target, log: accepted.log });
    const result = await forwardTcp(socket, {
      target, head: detected.leftover, idleTimeoutMs: config.idleTimeoutMs,
      connectTimeoutMs: config.connectTimeoutMs, log: accepted.log, report: accepted.summary,
    });
    accepted.summary.outcome = result.outcome;
    if (result.outcome !== 'ok') metrics.errors.inc({ direction, code: outcomeLabel(result.outcome) });
  });
}
