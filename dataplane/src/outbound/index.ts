// Outbound pipeline (15001): the app's connections, redirected by iptables. accept → detect → discover →
// http | tcp. May import proxy/, detect/, http/, tcp/, transport/, metrics/. HTTP/2 and TLS from the app
// go the TCP way (L4 passthrough) in this version.
import type net from 'node:net';
import { acceptConnection } from '../proxy/accept.js';
import { createCaptureListener, type CaptureListener, type PipelineDeps } from '../proxy/listener.js';
import { detect } from '../detect/index.js';
import { forwardTcp } from '../tcp/forward.js';
import { discover } from './discover.js';
import { outcomeLabel } from '../errors.js';

export function createOutbound(deps: PipelineDeps): CaptureListener {
  const log = deps.log.child({ direction: 'outbound' });
  return createCaptureListener('outbound', deps, async (socket: net.Socket, listener) => {
    const accepted = acceptConnection(socket, { ...deps, direction: 'outbound', log, connections: listener.connections });
    if (!accepted) return;
    const detected = await detect(socket, {
      timeoutMs: deps.config.detectTimeoutMs, opaque: deps.config.opaquePorts.has(accepted.dst.port),
    });
    deps.metrics.detections.inc({ direction: 'outbound', protocol: detected.protocol, reason: detected.reason });
    deps.metrics.connections.inc({ direction: 'outbound', protocol: detected.protocol });
    Object.assign(accepted.summary, { proto: detected.protocol, detect: detected.reason });
    if (socket.destroyed) return;
    const route = discover(accepted.dst);
    const target = { host: route.host, port: route.port };
    if (detected.protocol === 'http1') return listener.http.accept(socket, { target, log: accepted.log });
    const result = await forwardTcp(socket, {
      target, head: detected.leftover, idleTimeoutMs: deps.config.idleTimeoutMs,
      connectTimeoutMs: deps.config.connectTimeoutMs, log: accepted.log, report: accepted.summary,
    });
    accepted.summary.outcome = result.outcome;
    if (result.outcome !== 'ok') deps.metrics.errors.inc({ direction: 'outbound', code: outcomeLabel(result.outcome) });
  });
}

