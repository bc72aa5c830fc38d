// Inbound pipeline (15006): connections from other pods, redirected by iptables. accept → detect →
// http | tcp → the app (the shared steps are in proxy/pipeline.ts; with a control plane, mesh.ts
// terminates mTLS first). May import proxy/, transport/, contract, mtls/.
//
// The app is dialled on the original destination address (the pod IP) and port, never on 127.0.0.1:
// an app bound only to loopback stays unreachable from other pods (reliability I4, Istio ≥ 1.10). The
// dial binds the source 127.0.0.6 (IPv6 ::6): it travels over `lo`, where skein-dp init sends traffic
// to the pod's own IP back to inbound unless its source is that address (docs/capture.md rule 4; Istio
// and Kuma use the same address).
import { INBOUND_SOURCE } from '../contract.js';
import type { CaptureListener, PipelineDeps } from '../proxy/listener.js';
import { createPipeline } from '../proxy/pipeline.js';
import type { Target } from '../tcp/forward.js';
import type { Destination } from '../transport/resolver.js';
import { meshedInbound } from './mesh.js';

export function createInbound(deps: PipelineDeps): CaptureListener {
  const targetFor = (dst: Destination): Target => ({ host: dst.address, port: dst.port, localAddress: INBOUND_SOURCE[dst.family] });
  const mesh = deps.mesh;
  return createPipeline('inbound', deps, targetFor, mesh ? meshedInbound({ ...deps, mesh }, (a) => targetFor(a.dst)) : undefined);
}
