// Service endpoints (pure): Running and Ready pods matching the selector, target ports resolved
// (a number, or a named container port looked up in each pod).
import type { Pod, Service } from '../model/types.js';
import { familyOf } from '../network/cidr.js';
import type { ServiceRule } from '../network/iptables-render.js';

export function podIsReady(p: Pod): boolean {
  return p.status?.phase === 'Running' && !!p.status.podIP &&
    (p.status.conditions ?? []).some((c) => c.type === 'Ready' && c.status === 'True');
}

function selects(sel: Record<string, string> | undefined, labels: Record<string, string> | undefined): boolean {
  if (!sel || Object.keys(sel).length === 0) return false; // no selector: endpoints are managed elsewhere
  return Object.entries(sel).every(([k, v]) => labels?.[k] === v);
}

export function targetPort(pod: Pod, target: number | string | undefined, port: number): number | undefined {
  if (target === undefined || target === '') return port;
  if (typeof target === 'number' || /^\d+$/.test(target)) return Number(target);
  for (const c of pod.spec.containers) {
    const p = (c.ports ?? []).find((x) => x.name === target);
    if (p) return p.containerPort;
  }
  return undefined;
}

/** The cluster IPs of a Service: spec.clusterIPs (dual stack), else spec.clusterIP; none when headless. */
export function clusterIPsOf(s: Service): string[] {
  const ips = (s.spec.clusterIPs as string[] | undefined) ?? (s.spec.clusterIP ? [s.spec.clusterIP] : []);
  return ips.filter((ip) => ip !== 'None');
}

/** The pod's address of `family` (status.podIPs; status.podIP is the IPv4 one). */
function podAddress(p: Pod, family: 4 | 6): string | undefined {
  return (p.status?.podIPs ?? []).map((x) => x.ip).concat(p.status?.podIP ?? []).find((ip) => ip && familyOf(ip) === family);
}

/** One rule per cluster IP and port: an IPv6 VIP is DNATed to the endpoints' IPv6 addresses. */
export function serviceRules(services: readonly Service[], pods: readonly Pod[]): ServiceRule[] {
  const out: ServiceRule[] = [];
  for (const s of services) {
    const ns = s.metadata.namespace ?? 'default';
    const members = pods.filter((p) => (p.metadata.namespace ?? 'default') === ns && selects(s.spec.selector, p.metadata.labels) && podIsReady(p));
    for (const vip of clusterIPsOf(s)) {
      const family = familyOf(vip);
      for (const sp of s.spec.ports ?? []) {
        const endpoints = members.flatMap((p) => {
          const port = targetPort(p, sp.targetPort, sp.port);
          const ip = podAddress(p, family);
          return port === undefined || !ip ? [] : [{ ip, port }];
        }).sort((a, b) => `${a.ip}:${a.port}`.localeCompare(`${b.ip}:${b.port}`));
        out.push({ id: `${ns}/${s.metadata.name}:${sp.port}`, vip, port: sp.port, protocol: protocolOf(sp.protocol), endpoints });
      }
    }
  }
  return out;
}

function protocolOf(p: string | undefined): 'tcp' | 'udp' | 'sctp' {
  const l = (p ?? 'TCP').toLowerCase();
  return l === 'udp' || l === 'sctp' ? l : 'tcp';
}
