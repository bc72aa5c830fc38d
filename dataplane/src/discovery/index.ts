// What the sidecar knows about the mesh: the Discovery.Watch snapshot of skein-cp and the route index built
// from it once per snapshot (mesh-view.ts), plus startMeshClient, which starts the identity and the
// discovery clients together. Only types are imported statically: the gRPC client (grpc-js, the generated
// code of @skein/api) is loaded by startMeshClient, so a standalone sidecar never pays for it.
import type { discovery } from '@skein/api';
import type { Logger } from 'pino';
import type { RunConfig } from '../config/index.js';
import type { Metrics } from '../metrics/index.js';
import type { Balanced, PortBalancer } from '../balance/index.js';
import type { Destination } from '../transport/resolver.js';
import type { IdentityProvider } from '../identity/index.js';

export type RouteProtocol = 'http' | 'tcp' | 'detect';

export interface MeshView {
  version: string;
  snapshot: discovery.Snapshot;
  mtlsMode: 'STRICT' | 'PERMISSIVE';
  trustDomain: string;
  /** The roots peers' certificates must chain to (old and new during a rotation). */
  trustAnchorsPem: string[];
  /**
   * Where an outbound connection to dst goes: for a Service, one endpoint picked by its balancer (per
   * connection; sourceIp is the key of hash:source-ip). O(1) but for least-request with exclusions.
   */
  route(dst: Destination, sourceIp?: string): OutboundRoute;
  /** A Service port's balancer (HTTP picks per request with it), undefined when dst is no Service port. */
  balancer?(dst: Destination): PortBalancer<BalancedRoute> | undefined;
  /** The inbound port's protocol hint from the pod's own ports (Proxy.inbound_ports / opaque_ports). */
  inboundProtocol(port: number): RouteProtocol;
}

export type OutboundRoute =
  /** Not in the snapshot: to the original destination, as without a control plane. */
  | { kind: 'passthrough'; host: string; port: number }
  | {
    kind: 'endpoint'; host: string; port: number;
    /** The identity the peer must present; '' = the endpoint is not meshed → plaintext. */
    spiffeId: string;
    protocol: RouteProtocol;
    /** "<ns>/<name>" when the destination was a Service's virtual IP. */
    service?: string;
  };

/** A Service endpoint's route with what its balancer needs (key host:port, weight, in-flight count). */
export type BalancedRoute = Extract<OutboundRoute, { kind: 'endpoint' }> & Balanced;

export interface DiscoveryProvider {
  /** The last good view; kept when the stream breaks (never fails open). */
  current(): MeshView | undefined;
  onChange(listener: (view: MeshView) => void): () => void;
  stop(): void;
}

export interface MeshClient {
  identity: IdentityProvider;
  discovery: DiscoveryProvider;
  /** True once there is an unexpired certificate and a first snapshot. */
  ready(): boolean;
  /** Resolves when ready() first becomes true. */
  whenReady(): Promise<void>;
  stop(): void;
}

/**
 * Starts the Certify and Discovery.Watch clients against config.controlPlane (SKEIN_CP_ADDRESS must be
 * set; parseRunConfig already checked the token and CA paths). Resolves at once: readiness is ready().
 */
export async function startMeshClient(opts: { config: RunConfig; log: Logger; metrics: Metrics }): Promise<MeshClient> {
  const { startMeshClientNow } = await import('./mesh-client.js');
  return startMeshClientNow(opts);
}
