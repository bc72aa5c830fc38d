// "Did it go through both sidecars?" — the client's and the server's /stats, read before and after
// some traffic, as numbers a test can assert on. Counters that are only added when a connection
// closes (bytes) may lag the client by a moment, so `settle` polls for them with a bounded wait.
import { inbound, INBOUND_HTTP_REQUESTS, outbound, OUTBOUND_HTTP_REQUESTS } from './counters.js';
import type { LocalMesh } from './local-mesh.js';
import { pollUntil } from './poll.js';
import { delta, showDelta, sumOf, type Counters } from './stats.js';

export interface Hops {
  /** Connections the client's sidecar accepted on 15001 (one per app connection). */
  readonly clientOutbound: number;
  readonly clientOutboundRequests: number;
  /** Connections the server's sidecar accepted on 15006 (HTTP upstreams may be pooled: fewer). */
  readonly serverInbound: number;
  readonly serverInboundRequests: number;
  /** Counter changes on both sides, for assertion messages. */
  readonly why: string;
  /** Polls both sidecars until `pattern`'s sum on that side grew by at least `min`; returns the growth. */
  settle(side: 'client' | 'server', pattern: RegExp, min: number): Promise<number>;
}

export async function observeHops(mesh: LocalMesh, ns: string, client: string, server: string, traffic: () => Promise<void>): Promise<Hops> {
  const [cBefore, sBefore] = [await mesh.stats(ns, client), await mesh.stats(ns, server)];
  await traffic();
  const [cAfter, sAfter] = [await mesh.stats(ns, client), await mesh.stats(ns, server)];
  const grow = (b: Counters, a: Counters, p: RegExp): number => sumOf(a, p) - sumOf(b, p);
  return {
    clientOutbound: outbound(cAfter) - outbound(cBefore),
    clientOutboundRequests: grow(cBefore, cAfter, OUTBOUND_HTTP_REQUESTS),
    serverInbound: inbound(sAfter) - inbound(sBefore),
    serverInboundRequests: grow(sBefore, sAfter, INBOUND_HTTP_REQUESTS),
    why: `${client} sidecar:\n${showDelta(delta(cBefore, cAfter))}\n${server} sidecar:\n${showDelta(delta(sBefore, sAfter))}`,
    settle: (side, pattern, min) => {
      const [pod, before] = side === 'client' ? [client, cBefore] : [server, sBefore];
      return pollUntil(async () => {
        const g = grow(before, await mesh.stats(ns, pod), pattern);
        return g >= min ? g : undefined;
      }, { what: `${ns}/${pod} ${pattern.source} to grow by ${min}`, timeoutMs: 15_000 });
    },
  };
}
