// Inbound with a control plane (15006): a peer sidecar's mTLS is terminated here, everything else is
// plaintext from outside the mesh. The first bytes decide, with no second detection:
//  - a TLS ClientHello offering skein/h1 or skein/tcp → mTLS (mtls/accept): the peer's SPIFFE ID becomes
//    the connection's source identity (child logger, closing line, access log) and, for HTTP, the
//    x-skein-peer-identity header the app gets; skein/h1 → the HTTP path, skein/tcp → the app at once;
//  - anything else (plaintext, the app's own TLS): PERMISSIVE → the standalone path, unauthenticated;
//    STRICT → refused (closed, skein_dp_refused_total{reason="plaintext_strict"}, logged), except from
//    the pod's own IP (in-pod traffic, e.g. gRPC probes, which cannot bind 127.0.0.6).
// On an opaque port (--opaque-ports, the pod's opaque ports) a plaintext client is not detected: the
// first bytes are only awaited for OPAQUE_PEEK_MS, enough for a peer sidecar's ClientHello (sent with
// the TCP handshake's last ACK), so a server-first protocol from outside the mesh waits that long at most.
// Authorization (policy/): an opaque connection is decided on its caller and port before the app is
// dialled (a denied client never sees a server-first banner, envoy#9023) and stays watched so that a
// new snapshot that revokes it closes it; HTTP is decided per request by the HTTP path (authz on the
// connection). Plaintext from the pod's own IP is not judged: the sidecar is no boundary for its own pod.
import { detect } from '../detect/index.js';
import { clientHelloAlpn, skeinAlpn, ALPN_H1, type MtlsError } from '../mtls/index.js';
import type { Accepted } from '../proxy/accept.js';
import type { CaptureListener, PipelineDeps } from '../proxy/listener.js';
import { forwardAccepted, recordDetection, type MeshedStep } from '../proxy/pipeline.js';
import type { Target } from '../tcp/forward.js';
import { unmapIPv4 } from '../transport/local.js';
import { InboundAuthz, type ConnectionAuthz } from '../policy/index.js';
import type net from 'node:net';

export const OPAQUE_PEEK_MS = 100;
/** How much longer than the detection timeout a denied skein/tcp connection waits for its first bytes. */
const PREDIAL_HOLD_MS = 1000;

/** Resolves with what the peer did first: sent bytes, closed, or neither within `ms`. */
function firstBytes(socket: net.Socket, ms: number): Promise<'data' | 'closed' | 'timeout'> {
  return new Promise((resolve) => {
    const done = (result: 'data' | 'closed' | 'timeout'): void => {
      clearTimeout(timer);
      socket.off('data', onData);
      socket.off('end', onClosed);
      socket.off('close', onClosed);
      resolve(result);
    };
    const onData = (): void => done('data');
    const onClosed = (): void => done('closed');
    const timer = setTimeout(() => done('timeout'), ms);
    socket.on('data', onData);
    socket.once('end', onClosed);
    socket.once('close', onClosed);
    socket.resume();
  });
}

export function meshedInbound(deps: PipelineDeps & Required<Pick<PipelineDeps, 'mesh'>>, targetOf: (a: Accepted) => Target): MeshedStep {
  const { config, metrics, mesh } = deps;
  const direction = 'inbound';
  const podIP = config.podIP === undefined ? undefined : unmapIPv4(config.podIP);
  const authz = new InboundAuthz(mesh.discovery, metrics, deps.log.child({ component: 'authz' }));
  /**
   * Decides an opaque connection before any dial, then forwards it while watched for revocation. A
   * denied skein/tcp connection may be a peer sidecar's speculative pre-dial (outbound/mesh.ts) for a
   * client that is about to speak HTTP, which is judged per request on skein/h1: closing it at once
   * would make the peer reset that client. So it is held, never dialled, until its first bytes, its
   * close or a timeout; a pre-dial closed unused is neither counted nor logged as a denial.
   */
  const forwardOpaque = async (conn: ConnectionAuthz, accepted: Accepted, client: net.Socket, head?: Buffer, speculative = false): Promise<void> => {
    const decision = conn.decideConnection();
    accepted.summary.policy = decision.policy;
    if (!decision.allowed) {
      const first = speculative && !(head && head.length > 0) ? await firstBytes(client, config.detectTimeoutMs + PREDIAL_HOLD_MS) : 'data';
      accepted.summary.outcome = first === 'closed' ? 'unused_denied' : 'denied';
      if (first !== 'closed') conn.recordConnection(decision);
      client.destroy();
      return;
    }
    conn.recordConnection(decision);
    const untrack = conn.trackConnection(() => {
      accepted.summary.outcome = 'revoked';
      client.destroy();
    });
    try {
      await forwardAccepted(deps, direction, { ...accepted, log: conn.log }, client, { target: targetOf(accepted), ...(head ? { head } : {}) });
    } finally {
      untrack();
    }
  };
  return async (accepted: Accepted, listener: CaptureListener) => {
    const { socket, dst } = accepted;
    const view = mesh.discovery.current();
    const opaque = config.opaquePorts.has(dst.port) || view?.inboundProtocol(dst.port) === 'tcp';
    const detected = await detect(socket, {
      timeoutMs: opaque ? Math.min(OPAQUE_PEEK_MS, config.detectTimeoutMs) : config.detectTimeoutMs, opaque: false, wholeHello: true,
    });
    if (socket.destroyed) return;
    const hello = detected.protocol === 'tls' ? clientHelloAlpn(detected.head) : undefined;
    const alpn = Array.isArray(hello) ? skeinAlpn(hello) : undefined;
    const target = targetOf(accepted);
    if (alpn) {
      let secured;
      try {
        secured = await mesh.mtls.accept(socket, detected.head);
      } catch (err) {
        // mtls/ counted and logged the refusal; the closing line carries it with the connection's id.
        accepted.summary.outcome = `tls_${(err as MtlsError).reason ?? 'failed'}`;
        socket.destroy();
        return;
      }
      const { tls, peer } = secured;
      accepted.summary.peer = peer;
      const log = accepted.log.child({ peer });
      tls.on('error', () => undefined);
      const conn = authz.connection(peer, dst.port, log);
      if (secured.alpn === ALPN_H1) {
        recordDetection(deps, direction, accepted, { protocol: 'http1', reason: 'alpn' });
        return listener.http.accept(tls, { target, log, peer, authz: conn });
      }
      recordDetection(deps, direction, accepted, { protocol: 'opaque', reason: 'alpn' });
      return forwardOpaque(conn, accepted, tls, undefined, true);
    }
    // From outside the mesh (or the app's own TLS, which a meshed peer wraps in skein/tcp). A connection
    // from the pod's own IP never left the pod (the health server's gRPC probes, the app calling itself):
    // Linux drops packets from outside that carry a local source address, so it cannot be forged.
    const mode = view?.mtlsMode ?? 'STRICT';
    const fromPod = podIP !== undefined && unmapIPv4(socket.remoteAddress ?? '') === podIP;
    if (mode === 'STRICT' && !fromPod) {
      metrics.refused.inc({ direction, reason: 'plaintext_strict' });
      accepted.summary.outcome = 'refused_plaintext_strict';
      accepted.log.info({ proto: detected.protocol, reason: view ? 'strict' : 'no_snapshot' }, 'plaintext connection refused: the mesh is in STRICT mTLS mode');
      socket.destroy();
      return;
    }
    const protocol = opaque ? 'opaque' : detected.protocol;
    recordDetection(deps, direction, accepted, { protocol, reason: opaque ? 'opaque_port' : detected.reason });
    if (fromPod) {
      if (protocol === 'http1') return listener.http.accept(socket, { target, log: accepted.log });
      return forwardAccepted(deps, direction, accepted, socket, { target, head: detected.leftover });
    }
    const conn = authz.connection(undefined, dst.port, accepted.log);
    if (protocol === 'http1') return listener.http.accept(socket, { target, log: accepted.log, authz: conn });
    return forwardOpaque(conn, accepted, socket, detected.leftover);
  };
}
