// /etc/hosts of a pod (pure): localhost, the pod's own name, and every Service by its DNS names.
// skein-local has no DNS server; hosts entries stand in for cluster DNS (including the search-path
// short forms `svc`, `svc.ns` and `svc.ns.svc` a pod would resolve through its resolv.conf).

/** `ips`: the Service's cluster IPs (spec.clusterIPs), one hosts line each, as cluster DNS answers A and AAAA. */
export interface ServiceName { name: string; namespace: string; ips: readonly string[] }

/** `ip6`: the pod's IPv6 address on a dual-stack node (kubelet writes a line per pod IP). */
export function renderHosts(pod: { name: string; namespace: string; hostname?: string; ip: string; ip6?: string }, services: readonly ServiceName[]): string {
  const lines = [
    '# Written by skein-local: Service names stand in for cluster DNS; rewritten in place when Services change.',
    '127.0.0.1\tlocalhost',
    '::1\tlocalhost ip6-localhost ip6-loopback',
    ...[pod.ip, pod.ip6].filter(Boolean).map((ip) => `${ip}\t${pod.hostname ?? pod.name}`),
  ];
  const sorted = [...services].sort((a, b) => `${a.namespace}/${a.name}`.localeCompare(`${b.namespace}/${b.name}`));
  for (const s of sorted) {
    const names = [`${s.name}.${s.namespace}`, `${s.name}.${s.namespace}.svc`, `${s.name}.${s.namespace}.svc.cluster.local`];
    if (s.namespace === pod.namespace) names.unshift(s.name);
    for (const ip of s.ips) lines.push(`${ip}\t${names.join(' ')}`);
  }
  return `${lines.join('\n')}\n`;
}

/**
 * resolv.conf for a pod: no nameserver, so glibc asks 127.0.0.1:53 inside the pod, which refuses at once.
 * Names not in /etc/hosts fail fast instead of waiting on a DNS server that nothing may reach.
 */
export function renderResolvConf(): string {
  return '# Written by skein-local: no DNS server; Service names are in /etc/hosts.\noptions timeout:1 attempts:1\n';
}
