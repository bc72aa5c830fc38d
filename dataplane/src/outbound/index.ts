// Outbound pipeline (15001): the app's connections, redirected by iptables. accept → detect → discover →
// http | tcp (the shared steps are in proxy/pipeline.ts). May import proxy/, transport/, outbound/.
// HTTP/2 and TLS from the app go the TCP way (L4 passthrough) in this version.
import type { CaptureListener, PipelineDeps } from '../proxy/listener.js';
import { createPipeline } from '../proxy/pipeline.js';
import { discover } from './discover.js';

export function createOutbound(deps: PipelineDeps): CaptureListener {
  return createPipeline('outbound', deps, (dst) => {
    const route = discover(dst);
    return { host: route.host, port: route.port };
  });
}
