// Inbound pipeline (15006): connections from other pods, redirected by iptables. accept → detect →
// http | tcp → the app (the shared steps are in proxy/pipeline.ts). May import proxy/, transport/, contract.
//
// The app is dialled on the original destination address (the pod IP) and port, never on 127.0.0.1:
// an app bound only to loopback stays unreachable from other pods (reliability I4, Istio ≥ 1.10). The
// dial binds the source 127.0.0.6 (IPv6 ::6): it travels over `lo`, where skein-dp init sends traffic
// to the pod's own IP back to inbound unless its source is that address (docs/capture.md rule 4; Istio
// and Kuma use the same address).
import { INBOUND_SOURCE } from '../contract.js';
import type { CaptureListener, PipelineDeps } from '../proxy/listener.js';
import { createPipeline } from '../proxy/pipeline.js';

export function createInbound(deps: PipelineDeps): CaptureListener {
  return createPipeline('inbound', deps, (dst) => ({ host: dst.address, port: dst.port, localAddress: INBOUND_SOURCE[dst.family] }));
}
