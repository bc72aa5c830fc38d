// Test helper (not product code): a discovery provider whose snapshot carries TrafficPermissions and a
// Mesh default, for the server side of the policy tests; set() delivers a new snapshot as skein-cp would.
import { Action, MtlsMode, type discovery as api } from '@skein/api';
import type { DiscoveryProvider, MeshView } from '../../discovery/index.js';
import type { Destination } from '../../transport/resolver.js';

export interface PolicySpec {
  trustAnchorsPem: string[];
  mtlsMode?: 'STRICT' | 'PERMISSIVE';
  defaultAction?: 'Allow' | 'Deny';
  policies?: api.TrafficPermission[];
  /** Inbound ports the pod declares as opaque (Proxy.opaque_ports). */
  opaquePorts?: number[];
}

export class PolicyDiscovery implements DiscoveryProvider {
  private view: MeshView | undefined;
  private readonly listeners = new Set<(view: MeshView) => void>();
  private version = 0;
  constructor(spec: PolicySpec | undefined) { this.view = spec ? this.build(spec) : undefined; }
  current(): MeshView | undefined { return this.view; }
  onChange(listener: (view: MeshView) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
  set(spec: PolicySpec): void {
    const view = this.build(spec);
    this.view = view;
    for (const l of this.listeners) l(view);
  }
  stop(): void { this.listeners.clear(); }
  private build(spec: PolicySpec): MeshView {
    const version = String(++this.version);
    const snapshot = {
      version,
      mesh: {
        name: 'default', mtlsMode: spec.mtlsMode === 'PERMISSIVE' ? MtlsMode.MTLS_MODE_PERMISSIVE : MtlsMode.MTLS_MODE_STRICT,
        certTtlSeconds: 3600, defaultAction: spec.defaultAction === 'Deny' ? Action.ACTION_DENY : Action.ACTION_ALLOW, trustDomain: 'cluster.local',
      },
      services: [], workloads: [], policies: spec.policies ?? [], trustAnchorsPem: spec.trustAnchorsPem, self: undefined,
    } satisfies api.Snapshot;
    const opaque = new Set(spec.opaquePorts ?? []);
    return {
      version, snapshot, mtlsMode: spec.mtlsMode ?? 'STRICT', trustDomain: 'cluster.local', trustAnchorsPem: spec.trustAnchorsPem,
      route: (dst: Destination) => ({ kind: 'passthrough', host: dst.address, port: dst.port }),
      inboundProtocol: (port: number) => (opaque.has(port) ? 'tcp' : 'detect'),
    };
  }
}

type Src = Partial<api.Source>;
type Dst = Partial<api.Destination>;

/** A TrafficPermission as skein-cp puts it in a snapshot. */
export function permission(namespace: string, name: string, action: 'Allow' | 'Deny', from: Src[] = [], to: Dst[] = []): api.TrafficPermission {
  return {
    name, namespace, selectorMatchLabels: {}, action: action === 'Deny' ? Action.ACTION_DENY : Action.ACTION_ALLOW,
    from: from.map((s) => ({ serviceAccounts: [], namespaces: [], ...s })),
    to: to.map((d) => ({ ports: [], methods: [], paths: [], ...d })),
  };
}
