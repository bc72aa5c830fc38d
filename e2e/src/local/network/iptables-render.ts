// iptables rules of one instance (pure): Service DNAT (kube-proxy's job), MASQUERADE where kube-proxy
// does it (hairpin, off-cluster sources), refusal of endpoint-less Services and the
// forwarding fence that keeps pod traffic on the host. Rendered as iptables-restore input for --noflush,
// so each chain is replaced atomically and nothing outside our own chains is touched.
import { contains, familyOf, type Cidr } from './cidr.js';

export interface ServiceRule {
  /** For comments: ns/name:port. */
  id: string;
  vip: string;
  port: number;
  protocol: 'tcp' | 'udp' | 'sctp';
  /** host:port pairs of the VIP's family; DNAT picks one at random with equal weight. */
  endpoints: { ip: string; port: number }[];
}

export interface RuleInput {
  bridge: string;
  /** Both of one family. */
  podCidr: Cidr;
  serviceCidr: Cidr;
  chainPrefix: string;
  services: readonly ServiceRule[];
}

export interface ChainNames { svc: string; post: string; fwd: string; out: string }

export function chainNames(chainPrefix: string): ChainNames {
  return { svc: `${chainPrefix}SVC`, post: `${chainPrefix}POST`, fwd: `${chainPrefix}FWD`, out: `${chainPrefix}OUT` };
}

/** Jumps from the built-in chains into ours: [table, builtin chain, rule args]. Inserted first, removed by `down`. */
export function renderJumps(input: Pick<RuleInput, 'serviceCidr' | 'chainPrefix'>): [string, string, string[]][] {
  const c = chainNames(input.chainPrefix);
  const svc = input.serviceCidr.text;
  return [
    ['nat', 'PREROUTING', ['-d', svc, '-j', c.svc]],
    ['nat', 'OUTPUT', ['-d', svc, '-j', c.svc]],
    ['nat', 'POSTROUTING', ['-j', c.post]],
    ['filter', 'FORWARD', ['-j', c.fwd]],
    ['filter', 'OUTPUT', ['-d', svc, '-j', c.out]],
  ];
}

/**
 * iptables-restore --noflush input that (re)defines our chains' contents, for the family of the ranges
 * given (IPv6 ranges: ip6tables-restore input; the same chain names live in both).
 */
export function renderRules(input: RuleInput): string {
  const c = chainNames(input.chainPrefix);
  const br = input.bridge;
  const pods = input.podCidr.text;
  const svcs = input.serviceCidr.text;
  const v6 = input.podCidr.family === 6;
  const host = v6 ? '128' : '32';
  const nat = ['*nat', `:${c.svc} - [0:0]`, `:${c.post} - [0:0]`];
  for (const s of servicesOf(input)) {
    const n = s.endpoints.length;
    s.endpoints.forEach((e, i) => {
      const rule = [`-A ${c.svc}`, `-d ${s.vip}/${host} -p ${s.protocol} -m ${s.protocol} --dport ${s.port}`, `-m comment --comment "${s.id}"`];
      // Rule i of n takes 1/(n-i) of what reaches it: every endpoint gets 1/n overall.
      if (i < n - 1) rule.push(`-m statistic --mode random --probability ${(1 / (n - i)).toFixed(10)}`);
      rule.push(`-j DNAT --to-destination ${v6 ? `[${e.ip}]` : e.ip}:${e.port}`);
      nat.push(rule.join(' '));
    });
  }
  // Source NAT only where kube-proxy does it; everything else keeps the client pod's address.
  // Hairpin: a pod DNATed to itself. Without SNAT the packet would come back to the pod from its own
  // address, which the kernel drops as a martian source (kube-proxy's KUBE-SEP `-s <endpoint> -j
  // KUBE-MARK-MASQ`). One rule per endpoint address on the bridge. Replies between two pods need no
  // SNAT: they cross the bridge, and br_netfilter (on for our bridge) runs them through conntrack,
  // which restores the VIP as their source.
  for (const ip of hairpinAddresses(input)) {
    nat.push(`-A ${c.post} -s ${ip}/${host} -d ${ip}/${host} -o ${br} -m conntrack --ctstate DNAT -j MASQUERADE`);
  }
  // Off-cluster sources (the host with another source address): the pod's reply would not come back
  // through this host's conntrack otherwise (kube-proxy's `! -s <cluster-cidr>` masquerade).
  nat.push(`-A ${c.post} ! -s ${pods} -o ${br} -m conntrack --ctstate DNAT -j MASQUERADE`);
  nat.push('COMMIT');
  const filter = ['*filter', `:${c.fwd} - [0:0]`, `:${c.out} - [0:0]`];
  // A VIP that no DNAT rule rewrote has no endpoint: refuse at once. TCP gets a reset: an ICMP
  // port-unreachable would be subject to the kernel's per-host ICMP rate limit (icmp_ratelimit), so a
  // client retrying faster than that would see its SYNs go unanswered and hang until its own timeout.
  for (const chain of [c.fwd, c.out]) {
    filter.push(`-A ${chain} -d ${svcs} -p tcp -j REJECT --reject-with tcp-reset`);
    filter.push(`-A ${chain} -d ${svcs} -j REJECT --reject-with ${v6 ? 'icmp6-port-unreachable' : 'icmp-port-unreachable'}`);
  }
  filter.push(`-A ${c.fwd} -i ${br} -o ${br} -j ACCEPT`);
  // The fence: nothing from the bridge goes anywhere else, nothing from elsewhere reaches the bridge.
  filter.push(`-A ${c.fwd} -i ${br} -j DROP`);
  filter.push(`-A ${c.fwd} -o ${br} -j DROP`);
  filter.push('COMMIT');
  return `${nat.join('\n')}\n${filter.join('\n')}\n`;
}

/** The rules of the family being rendered (iptables for IPv4 VIPs, ip6tables for IPv6 ones). */
function servicesOf(input: RuleInput): ServiceRule[] {
  return input.services.filter((s) => familyOf(s.vip) === input.podCidr.family);
}

/** Endpoint addresses inside the pod range (not skein-cp's loopback), once each, sorted. */
function hairpinAddresses(input: RuleInput): string[] {
  const ips = new Set<string>();
  for (const s of servicesOf(input)) for (const e of s.endpoints) if (contains(input.podCidr, e.ip)) ips.add(e.ip);
  return [...ips].sort();
}
