// Inbound pipeline (15006): connections from other pods, redirected by iptables. accept → detect →
// http | tcp → the app. May import proxy/, detect/, http/, tcp/, transport/, metrics/.
//
// The app is dialled on the original destination address (the pod IP) and port, never on 127.0.0.1:
// an app bound only to loopback stays unreachable from other pods (reliability I4, Istio ≥ 1.10). The
// dial binds the source 127.0.0.6 (IPv6 ::6): it travels over `lo`, where skein-dp init sends traffic
// to the pod's own IP back to inbound unless its source is that address (docs/capture.md rule 4; Istio
// and Kuma use the same address).
import type net from 'node:net';
import { acceptConnection } from '../proxy/accept.js';
import { createCaptureListener, type CaptureListener, type PipelineDeps } from '../proxy/listener.js';
import { detect } from '../detect/index.js';
import { forwardTcp } from '../tcp/forward.js';
import { outcomeLabel } from '../errors.js';
import { INBOUND_SOURCE } from '../contract.js';


export function createInbound(deps: PipelineDeps): CaptureListener {
  const log = deps.log.child({ direction: 'inbound' });
  return createCaptureListener('inbound', deps, async (socket: net.Socket, listener) => {
    const accepted = acceptConnection(socket, { ...deps, direction: 'inbound', log, connections: listener.connections });
    if (!accepted) return;
    // Server-first ports skip detection; elsewhere a silent client costs --detect-timeout, then TCP (N3).
    const detected = await detect(socket, {
      timeoutMs: deps.config.detectTimeoutMs, opaque: deps.config.opaquePorts.has(accepted.dst.port),
    });
    deps.metrics.detections.inc({ direction: 'inbound', protocol: detected.protocol, reason: detected.reason });
    deps.metrics.connections.inc({ direction: 'inbound', protocol: detected.protocol });
    Object.assign(accepted.summary, { proto: detected.protocol, detect: detected.reason });
    if (socket.destroyed) return;
    const target = { host: accepted.dst.address, port: accepted.dst.port, localAddress: INBOUND_SOURCE[accepted.dst.family] };
    if (detected.protocol === 'http1') return listener.http.accept(socket, { target, log: accepted.log });
    const result = await forwardTcp(socket, {
      target, head: detected.leftover, idleTimeoutMs: deps.config.idleTimeoutMs,
      connectTimeoutMs: deps.config.connectTimeoutMs, log: accepted.log, report: accepted.summary,
    });
    accepted.summary.outcome = result.outcome;
    if (result.outcome !== 'ok') deps.metrics.errors.inc({ direction: 'inbound', code: outcomeLabel(result.outcome) });
  });
}
