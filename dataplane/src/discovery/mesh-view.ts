// The route index of one discovery snapshot, built once when the snapshot arrives so that the per-connection
// lookup is two Map reads: Service cluster IP → port → its ready endpoints behind the Service's balancer
// (balance/: the policy of Service.load_balancer, the target port resolved per endpoint, named target
// ports included), and meshed pod IP → its SPIFFE identity. Anything
// not in the snapshot is passthrough, as without a control plane. Malformed entries are skipped (and
// counted in `skipped`), never a reason to drop the whole snapshot.
import { isIP } from 'node:net';
import { MtlsMode, Protocol, type discovery } from '@skein/api';
import { buildBalancer, effectiveWeight, LoadTable, type HashOn, type PortBalancer } from '../balance/index.js';
import type { Destination } from '../transport/resolver.js';
import type { BalancedRoute, MeshView, OutboundRoute, RouteProtocol } from './index.js';

/** One Service port: its ready endpoints as ready-made routes behind the Service's balancer. */
type PortRoutes = PortBalancer<BalancedRoute>;

interface WorkloadEntry { spiffeId: string; opaquePorts: ReadonlySet<number> }

export interface BuiltMeshView extends MeshView {
  /** Entries left out because they were malformed (bad IP, no usable port). */
  skipped: number;
  balancer(dst: Destination): PortBalancer<BalancedRoute> | undefined;
}

const DEFAULT_TRUST_DOMAIN = 'cluster.local';

/** The canonical text of an IP (lower-case, compressed IPv6) or undefined when it is none. */
export function canonicalIp(ip: string): string | undefined {
  const family = isIP(ip);
  if (family === 4) return ip;
  if (family !== 6) return undefined;
  const host = new URL(`http://[${ip}]/`).hostname;
  return host.slice(1, -1);
}

function protocolOf(protocol: Protocol): RouteProtocol {
  switch (protocol) {
    case Protocol.PROTOCOL_HTTP: return 'http';
    case Protocol.PROTOCOL_TCP: return 'tcp';
    // HTTP2 (h2c, gRPC) is recognised by its preface: detection handles it as it does without discovery.
    default: return 'detect';
  }
}

/**
 * `loads` carries the endpoints' in-flight counters from one snapshot to the next (an endpoint that stays
 * keeps its count for least-request); entries of endpoints gone are pruned.
 */
export function buildMeshView(snapshot: discovery.Snapshot, loads: LoadTable = new LoadTable()): BuiltMeshView {
  let skipped = 0;
  const present = new Set<string>();
  const workloads = new Map<string, WorkloadEntry>();
  for (const w of snapshot.workloads) {
    if (w.spiffeId === '') { skipped++; continue; }
    const entry: WorkloadEntry = { spiffeId: w.spiffeId, opaquePorts: new Set(w.opaquePorts) };
    for (const raw of new Set([w.ip, ...w.ips])) {
      if (raw === '') continue;
      const ip = canonicalIp(raw);
      if (ip === undefined) { skipped++; continue; }
      workloads.set(ip, entry);
    }
  }

  const services = new Map<string, Map<number, PortRoutes>>();
  for (const svc of snapshot.services) {
    const name = `${svc.namespace}/${svc.name}`;
    // Per address family: a connection to the IPv6 cluster IP goes to an IPv6 endpoint (as kube-proxy's
    // DNAT does), so the server sees the client's address of the family the client chose.
    const byFamily = new Map<4 | 6, Map<number, PortRoutes>>([[4, new Map()], [6, new Map()]]);
    for (const sp of svc.ports) {
      if (sp.port < 1 || sp.port > 65535) { skipped++; continue; }
      const routes = new Map<4 | 6, BalancedRoute[]>([[4, []], [6, []]]);
      for (const ep of svc.endpoints) {
        if (!ep.ready) continue;
        const host = canonicalIp(ep.ip);
        const port = ep.ports[sp.name] ?? (sp.targetPort === 0 ? undefined : sp.targetPort);
        if (host === undefined || port === undefined || port < 1 || port > 65535) { skipped++; continue; }
        const opaque = workloads.get(host)?.opaquePorts.has(port) ?? false;
        const key = isIP(host) === 6 ? `[${host}]:${port}` : `${host}:${port}`;
        present.add(key);
        const r = {
          kind: 'endpoint', host, port, spiffeId: ep.spiffeId || (workloads.get(host)?.spiffeId ?? ''), protocol: opaque ? 'tcp' : protocolOf(sp.protocol), service: name,
        } as const;
        // The balancer's fields are not enumerable: the route reads (and dumps) as before.
        routes.get(isIP(host) === 6 ? 6 : 4)!.push(Object.freeze(Object.defineProperties(r, {
          key: { value: key }, weight: { value: effectiveWeight(ep.weight) }, load: { value: loads.get(key) },
        }) as BalancedRoute));
      }
      // A Service port without ready endpoints stays out of the index: passthrough, as kube-proxy would handle it.
      for (const [family, list] of routes) if (list.length > 0) byFamily.get(family)!.set(sp.port, buildBalancer(svc.loadBalancer, list));
    }
    for (const raw of svc.clusterIps) {
      if (raw === '' || raw === 'None') continue;
      const ip = canonicalIp(raw);
      if (ip === undefined) { skipped++; continue; }
      const byPort = byFamily.get(isIP(ip) === 6 ? 6 : 4)!;
      if (byPort.size > 0) services.set(ip, byPort);
    }
  }

  const inbound = new Map<number, RouteProtocol>();
  for (const p of snapshot.self?.inboundPorts ?? []) inbound.set(p.port, protocolOf(p.protocol));
  for (const p of snapshot.self?.opaquePorts ?? []) inbound.set(p, 'tcp');

  loads.prune(present);

  const route = (dst: Destination, sourceIp?: string): OutboundRoute => {
    let address = dst.address;
    let byPort = services.get(address);
    let workload = byPort ? undefined : workloads.get(address);
    if (!byPort && !workload && address.startsWith('::ffff:') && isIP(address.slice(7)) === 4) {
      address = address.slice(7); // an IPv4 destination seen on a dual-stack socket
      byPort = services.get(address);
      workload = byPort ? undefined : workloads.get(address);
    }
    if (byPort) {
      const entry = byPort.get(dst.port);
      // Per connection: only the source IP can be a hash key here (no request yet); else round robin.
      const picked = entry?.pick(hashKeyOfConnection(entry.hashOn, sourceIp));
      if (picked) return picked;
    } else if (workload) {
      return {
        kind: 'endpoint', host: dst.address, port: dst.port, spiffeId: workload.spiffeId,
        protocol: workload.opaquePorts.has(dst.port) ? 'tcp' : 'detect',
      };
    }
    return { kind: 'passthrough', host: dst.address, port: dst.port };
  };

  return {
    version: snapshot.version,
    snapshot,
    mtlsMode: snapshot.mesh?.mtlsMode === MtlsMode.MTLS_MODE_STRICT ? 'STRICT' : 'PERMISSIVE',
    trustDomain: snapshot.mesh?.trustDomain || DEFAULT_TRUST_DOMAIN,
    trustAnchorsPem: snapshot.trustAnchorsPem,
    route,
    balancer: (dst) => {
      const address = dst.address;
      const byPort = services.get(address) ?? (address.startsWith('::ffff:') ? services.get(address.slice(7)) : undefined);
      return byPort?.get(dst.port);
    },
    inboundProtocol: (port) => inbound.get(port) ?? 'detect',
    skipped,
  };
}

function hashKeyOfConnection(hashOn: HashOn, sourceIp: string | undefined): string | undefined {
  if (hashOn.kind !== 'source-ip' || sourceIp === undefined) return undefined;
  return sourceIp.startsWith('::ffff:') ? sourceIp.slice(7) : sourceIp;
}
