// NODE_OPTIONS of skein-proxy: V8's heap sized for a sidecar rather than for a server with the node's memory.
//  - --max-semi-space-size=2 (MiB): the young generation stops at 2 × 2 MiB instead of growing to 2 × 16 MiB
//    under load. A proxy's garbage is per request and dies young, so small semi-spaces cost little: two
//    chained sidecars under 64 connections of HTTP load had a heap of 21–40 MB instead of 45 MB at the end
//    of the run, with CPU per request within the noise of the machine (docs/dataplane.md, "Memory").
//  - --max-old-space-size: half of the container's memory limit (256Mi by default → 128 MiB), so that V8
//    collects harder as it gets close instead of growing until the kernel's OOM killer ends the pod; the
//    other half is for what is not V8 heap (Node's code, buffers, sockets). Without a limit V8 sizes its heap
//    from the node's memory, which a container limit does not change.
// Not used: --optimize-for-size (about twice the CPU per request in the same test), --jitless.
import type { ProxyResources } from './annotations.js';
import { parseQuantity } from './quantity.js';

export const SEMI_SPACE_MIB = 2;
const MIN_OLD_SPACE_MIB = 32;

// Above this the limit is no constraint on a sidecar's heap: no flag (V8 sizes from the node's memory).
// Also keeps the number an integer V8 accepts (1e30 bytes printed as 4.7e+23 crashed node at start).
const MAX_OLD_SPACE_MIB = 2 ** 20; // 1 TiB

export function proxyNodeOptions(resources: ProxyResources): string {
  const flags = [`--max-semi-space-size=${SEMI_SPACE_MIB}`];
  const limit = parseQuantity(resources.limits.memory);
  if (limit !== undefined && limit > 0) {
    const halfMiB = Math.floor(limit / 2 ** 20 / 2);
    // A tiny limit still gets a heap Node can start with; the kernel's limit then decides, as without the flag.
    if (halfMiB <= MAX_OLD_SPACE_MIB) flags.push(`--max-old-space-size=${Math.max(MIN_OLD_SPACE_MIB, halfMiB)}`);
  }
  return flags.join(' ');
}
