// Test helpers (not product code): a DiscoveryProvider over the real route index (discovery/mesh-view.ts)
// of a hand-made snapshot, and a snapshot of one HTTP Service on loopback endpoints.
import type { discovery } from '@skein/api';
import type { DiscoveryProvider, MeshView } from '../discovery/index.js';
import { buildMeshView } from '../discovery/mesh-view.js';
import { LoadTable } from './types.js';

export class SnapshotDiscovery implements DiscoveryProvider {
  private view: MeshView;
  private readonly loads = new LoadTable();
  constructor(snapshot: discovery.Snapshot) { this.view = buildMeshView(snapshot, this.loads); }
  current(): MeshView { return this.view; }
  set(snapshot: discovery.Snapshot): void { this.view = buildMeshView(snapshot, this.loads); }
  onChange(): () => void { return () => undefined; }
  stop(): void { /* nothing to stop */ }
}

let versions = 0;

/** Service shop/orders on `vip`:80 (HTTP) whose endpoints are 127.0.0.1:<each of ports>, meshed as spiffeId. */
export function serviceSnapshot(vip: string, ports: number[], spiffeId: string, anchors: string[], lb?: discovery.LoadBalancer): discovery.Snapshot {
  return {
    version: String(++versions), mesh: undefined, self: undefined, workloads: [], policies: [], trustAnchorsPem: anchors,
    services: [{
      name: 'orders', namespace: 'shop', clusterIps: [vip], loadBalancer: lb,
      ports: [{ name: 'http', port: 80, targetPort: 0, protocol: 1 /* PROTOCOL_HTTP */ }],
      endpoints: ports.map((port, i) => ({
        ip: '127.0.0.1', ports: { http: port }, ready: true, spiffeId, podName: `orders-${i}`, nodeName: 'n', podNamespace: 'shop', weight: 0,
      })),
    }],
  };
}
