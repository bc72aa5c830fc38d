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
import { detect } from '../detect/index.js';
import { clientHelloAlpn, skeinAlpn, ALPN_H1, type MtlsError } from '../mtls/index.js';
import type { Accepted } from '../proxy/accept.js';
import type { CaptureListener, PipelineDeps } from '../proxy/listener.js';
import { forwardAccepted, recordDetection, type MeshedStep } from '../proxy/pipeline.js';
import type { Target } from '../tcp/forward.js';
import { unmapIPv4 } from '../transport/local.js';

export const OPAQUE_PEEK_MS = 100;

export function meshedInbound(deps: PipelineDeps & Required<Pick<PipelineDeps, 'mesh'>>, targetOf: (a: Accepted) => Target): MeshedStep {
  const { config, metrics, mesh } = deps;
  const direction = 'inbound';
  const podIP = config.podIP === undefined ? undefined : unmapIPv4(config.podIP);
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
      if (secured.alpn === ALPN_H1) {
        recordDetection(deps, direction, accepted, { protocol: 'http1', reason: 'alpn' });
        return listener.http.accept(tls, { target, log, peer });
      }
      recordDetection(deps, direction, accepted, { protocol: 'opaque', reason: 'alpn' });
      return forwardAccepted(deps, direction, { ...accepted, log }, tls, { target });
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
    if (protocol === 'http1') return listener.http.accept(socket, { target, log: accepted.log });
    return forwardAccepted(deps, direction, accepted, socket, { target, head: detected.leftover });
  };
}
