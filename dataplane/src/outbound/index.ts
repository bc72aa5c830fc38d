// Outbound pipeline (15001): the app's connections, redirected by iptables. accept → detect → discover →
// http | tcp (the shared steps are in proxy/pipeline.ts; with a control plane, mesh.ts routes by
// discovery and speaks mTLS to meshed peers). May import proxy/, transport/, outbound/, mtls/.
// HTTP/2 and TLS from the app go the TCP way (L4 passthrough) in this version.
import type { CaptureListener, PipelineDeps } from '../proxy/listener.js';
import { createPipeline } from '../proxy/pipeline.js';
import { discover } from './discover.js';
import { meshedOutbound } from './mesh.js';

export function createOutbound(deps: PipelineDeps): CaptureListener {
  const mesh = deps.mesh;
  return createPipeline('outbound', deps, (dst) => {
    const route = discover(dst);
    return { host: route.host, port: route.port };
  }, mesh ? meshedOutbound({ ...deps, mesh }) : undefined);
}
