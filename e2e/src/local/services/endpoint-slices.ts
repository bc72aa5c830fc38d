// EndpointSlices (discovery.k8s.io/v1), as kube-controller-manager's endpointslice controller writes
// them: per Service with a selector, one slice per address family and per set of resolved target ports
// (a named targetPort can resolve to different numbers in different pods). Every pod that matches and
// has an address is listed, with conditions.ready from its Ready condition, so that skein-cp's discovery
// reads the same objects in local mode as on a cluster. Pure: the controller stores the result.
import type { KubeObject, Pod, Service } from '../model/types.js';
import { familyOf } from '../network/cidr.js';
import { clusterIPsOf, podIsReady, targetPort } from './endpoints.js';

export const SERVICE_NAME_LABEL = 'kubernetes.io/service-name';
export const MANAGED_BY_LABEL = 'endpointslice.kubernetes.io/managed-by';
export const MANAGED_BY = 'endpointslice-controller.k8s.io';

export interface EndpointSlicePort { name: string; port: number; protocol: string; appProtocol?: string }
export interface EndpointSliceEndpoint {
  addresses: string[];
  conditions: { ready: boolean; serving: boolean; terminating: boolean };
  nodeName?: string;
  targetRef: { kind: 'Pod'; namespace: string; name: string; uid: string };
}
export interface EndpointSlice extends KubeObject {
  addressType: 'IPv4' | 'IPv6';
  endpoints: EndpointSliceEndpoint[];
  ports: EndpointSlicePort[];
}

function selects(sel: Record<string, string> | undefined, labels: Record<string, string> | undefined): boolean {
  if (!sel || Object.keys(sel).length === 0) return false;
  return Object.entries(sel).every(([k, v]) => labels?.[k] === v);
}

function podAddresses(p: Pod): string[] {
  const ips = (p.status?.podIPs ?? []).map((x) => x.ip).concat(p.status?.podIP ? [p.status.podIP] : []);
  return [...new Set(ips.filter(Boolean))];
}

function isTerminal(p: Pod): boolean {
  return p.status?.phase === 'Succeeded' || p.status?.phase === 'Failed';
}

/** The slices of one Service; none for a Service without selector (its slices are the user's) or without cluster IPs. */
export function endpointSlicesFor(s: Service, pods: readonly Pod[]): EndpointSlice[] {
  const ns = s.metadata.namespace ?? 'default';
  if (!s.spec.selector || Object.keys(s.spec.selector).length === 0) return [];
  const families = new Set(clusterIPsOf(s).map((ip) => familyOf(ip)));
  if (families.size === 0) families.add(4); // headless: IPv4 as the API server's default family
  const members = pods.filter((p) => (p.metadata.namespace ?? 'default') === ns && selects(s.spec.selector, p.metadata.labels)
    && !isTerminal(p) && podAddresses(p).length > 0);
  const groups = new Map<string, { family: 4 | 6; ports: EndpointSlicePort[]; endpoints: EndpointSliceEndpoint[] }>();
  for (const family of [...families].sort()) {
    for (const p of members) {
      const address = podAddresses(p).find((ip) => familyOf(ip) === family);
      if (!address) continue;
      const ports = (s.spec.ports ?? []).flatMap((sp) => {
        const port = targetPort(p, sp.targetPort, sp.port);
        if (port === undefined) return [];
        const appProtocol = (sp as { appProtocol?: string }).appProtocol;
        return [{ name: sp.name ?? '', port, protocol: sp.protocol ?? 'TCP', ...(appProtocol ? { appProtocol } : {}) }];
      });
      const key = `${family}|${JSON.stringify(ports)}`;
      let g = groups.get(key);
      if (!g) groups.set(key, (g = { family: family as 4 | 6, ports, endpoints: [] }));
      const ready = podIsReady(p);
      g.endpoints.push({
        addresses: [address],
        conditions: { ready, serving: ready, terminating: false },
        ...(p.spec.nodeName ? { nodeName: p.spec.nodeName } : {}),
        targetRef: { kind: 'Pod', namespace: ns, name: p.metadata.name!, uid: p.metadata.uid ?? '' },
      });
    }
  }
  const name = s.metadata.name!;
  const slice = (family: 4 | 6, index: number, ports: EndpointSlicePort[], endpoints: EndpointSliceEndpoint[]): EndpointSlice => ({
    apiVersion: 'discovery.k8s.io/v1', kind: 'EndpointSlice',
    metadata: {
      name: `${name}-${family === 6 ? 'ipv6' : 'ipv4'}${index === 0 ? '' : `-${index}`}`, namespace: ns,
      labels: { [SERVICE_NAME_LABEL]: name, [MANAGED_BY_LABEL]: MANAGED_BY },
      ownerReferences: [{ apiVersion: 'v1', kind: 'Service', name, uid: s.metadata.uid ?? '', controller: true }],
    },
    addressType: family === 6 ? 'IPv6' : 'IPv4',
    endpoints, ports,
  });
  const out: EndpointSlice[] = [];
  for (const family of [...families].sort()) {
    const mine = [...groups.entries()].filter(([, g]) => g.family === family).sort(([a], [b]) => a.localeCompare(b));
    mine.forEach(([, g], index) => {
      g.endpoints.sort((a, b) => a.addresses[0]!.localeCompare(b.addresses[0]!));
      out.push(slice(family as 4 | 6, index, g.ports, g.endpoints));
    });
    // A Service with no endpoints of this family still has one empty slice, as the real controller keeps.
    if (mine.length === 0) out.push(slice(family as 4 | 6, 0, [], []));
  }
  return out;
}
