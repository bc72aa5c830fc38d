// Host side of the node network: the bridge, routes, sysctls and our iptables/ip6tables chains.
import { existsSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import type { LocalConfig } from '../config.js';
import { names, podRanges } from '../config.js';
import { LocalError } from '../errors.js';
import { run, runOk } from '../exec.js';
import type { Journal } from '../state/journal.js';
import { gateway, type Cidr } from './cidr.js';
import { holdSysctl, IPV6_FORWARDING } from './host-sysctl.js';
import { chainNames, renderJumps, renderRules, type ServiceRule } from './iptables-render.js';

/** Metric of the fallback blackhole routes: worse than the bridge's connected route, so they only bite without it. */
const BLACKHOLE_METRIC = '4095';

export async function setupHostNetwork(cfg: LocalConfig, journal: Journal): Promise<void> {
  const br = cfg.bridge;
  await requireBridgeNetfilter();
  if (cfg.podCidr6 && !existsSync('/proc/sys/net/ipv6')) {
    throw new LocalError('E_NO_IPV6', 'this host has IPv6 switched off (no /proc/sys/net/ipv6): give --pod-cidr and --service-cidr IPv4 ranges only, ' +
      'e.g. --pod-cidr 10.244.0.0/16 --service-cidr 10.96.0.0/16');
  }
  journal.record({ t: 'bridge', name: br });
  // nf_call_*: bridged frames of this bridge go through iptables whatever the host-wide
  // bridge-nf-call-* sysctls say. Needed so that a pod's reply to another pod's connection through a
  // Service VIP (bridged, pod to pod) meets conntrack and leaves with the VIP as its source.
  await runOk(['ip', 'link', 'add', br, 'type', 'bridge', 'nf_call_iptables', '1', 'nf_call_ip6tables', '1']);
  // An IPv4-only instance keeps IPv6 off the bridge; a dual-stack one turns it on whatever the host's default.
  await writeSysctl(`net/ipv6/conf/${br}/disable_ipv6`, cfg.podCidr6 ? '0' : '1').catch((err: Error) => { if (cfg.podCidr6) throw err; });
  for (const pods of podRanges(cfg)) {
    // nodad: the gateway answers at once (no 1-2 s of duplicate address detection on a private bridge).
    await runOk(['ip', 'addr', 'add', `${gateway(pods)}/${pods.prefix}`, 'dev', br, ...(pods.family === 6 ? ['nodad'] : [])]);
  }
  await runOk(['ip', 'link', 'set', br, 'up']);
  for (const [pods, svcs] of families(cfg)) {
    // Service VIPs route onto the bridge so host-originated packets reach nat OUTPUT; DNAT rewrites them.
    await addRoute(journal, [svcs.text, 'dev', br, ...(svcs.family === 4 ? ['scope', 'link'] : [])]);
    await addRoute(journal, ['blackhole', pods.text, 'metric', BLACKHOLE_METRIC]);
    await addRoute(journal, ['blackhole', svcs.text, 'metric', BLACKHOLE_METRIC]);
  }
  // Forwarding for packets that arrive on our bridge only (a pod reaching a Service VIP is routed by
  // the host). The host-wide net.ipv4.ip_forward is left as it is: the setting goes with the bridge.
  await writeSysctl(`net/ipv4/conf/${br}/forwarding`, '1');
  if (cfg.podCidr6) await enableIpv6Forwarding(cfg, journal);
  // Lets a Service DNAT to 127.0.0.1 (skein-cp listens on loopback) for packets arriving on the bridge.
  await writeSysctl(`net/ipv4/conf/${br}/route_localnet`, '1');
  const prefix = names(cfg).chainPrefix;
  const c = chainNames(prefix);
  for (const [pods, svcs] of families(cfg)) {
    const ip6 = pods.family === 6;
    for (const [table, chain] of [['nat', c.svc], ['nat', c.post], ['filter', c.fwd], ['filter', c.out]] as const) {
      journal.record({ t: 'chain', table, name: chain, ...(ip6 ? { ip6 } : {}) });
    }
    await restore(ip6, renderRules({ bridge: br, podCidr: pods, serviceCidr: svcs, chainPrefix: prefix, services: [] }));
    for (const [table, chain, args] of renderJumps({ serviceCidr: svcs, chainPrefix: prefix })) {
      journal.record({ t: 'jump', table, chain, args, ...(ip6 ? { ip6 } : {}) });
      await runOk([ip6 ? 'ip6tables' : 'iptables', '-w', '-t', table, '-I', chain, '1', ...args]);
    }
  }
}

/** [pod range, service range] per family, IPv4 first. */
function families(cfg: LocalConfig): [Cidr, Cidr][] {
  return cfg.podCidr6 && cfg.serviceCidr6 ? [[cfg.podCidr, cfg.serviceCidr], [cfg.podCidr6, cfg.serviceCidr6]] : [[cfg.podCidr, cfg.serviceCidr]];
}

/**
 * IPv6 forwarding for packets from our bridge: per interface where the kernel can (force_forwarding,
 * Linux 6.17+), else host-wide net.ipv6.conf.all.forwarding, held in the shared record so that the
 * last instance's `down` restores it (network/host-sysctl.ts).
 */
async function enableIpv6Forwarding(cfg: LocalConfig, journal: Journal): Promise<void> {
  const perBridge = `net/ipv6/conf/${cfg.bridge}/force_forwarding`;
  if (existsSync(`/proc/sys/${perBridge}`)) return writeSysctl(perBridge, '1');
  journal.record({ t: 'sysctl', key: IPV6_FORWARDING, holder: cfg.stateDir });
  holdSysctl(IPV6_FORWARDING, '1', cfg.stateDir);
}

async function addRoute(journal: Journal, args: string[]): Promise<void> {
  journal.record({ t: 'route', args });
  await runOk(['ip', 'route', 'add', ...args]);
}

/** Replaces our chains' contents atomically, in iptables and (dual stack) ip6tables. */
export async function applyServiceRules(cfg: LocalConfig, services: readonly ServiceRule[]): Promise<void> {
  for (const [pods, svcs] of families(cfg)) {
    await restore(pods.family === 6, renderRules({ bridge: cfg.bridge, podCidr: pods, serviceCidr: svcs, chainPrefix: names(cfg).chainPrefix, services }));
  }
}

async function restore(ip6: boolean, text: string): Promise<void> {
  await runOk([ip6 ? 'ip6tables-restore' : 'iptables-restore', '-w', '--noflush'], text);
}

async function writeSysctl(key: string, value: string): Promise<void> {
  try {
    await writeFile(`/proc/sys/${key}`, value);
  } catch (err) {
    throw new LocalError('E_SYSCTL', `cannot set ${key.replace(/\//g, '.')}=${value}: ${(err as Error).message} (skein-local needs root and a writable /proc/sys)`);
  }
}

/**
 * br_netfilter makes bridged traffic visible to iptables (kubeadm requires it too). When skein-local
 * has to load it, it turns the host-wide bridge-nf-call-* sysctls off again right away: loading the
 * module would otherwise switch iptables on for every bridge of the host; ours uses its own flags.
 */
async function requireBridgeNetfilter(): Promise<void> {
  const global = ['bridge-nf-call-iptables', 'bridge-nf-call-ip6tables', 'bridge-nf-call-arptables'].map((k) => `/proc/sys/net/bridge/${k}`);
  if (existsSync(global[0]!)) return;
  await run(['modprobe', 'br_netfilter']).catch(() => undefined);
  if (!existsSync(global[0]!)) {
    throw new LocalError('E_BR_NETFILTER', 'the kernel module br_netfilter is not loaded and `modprobe br_netfilter` did not load it: ' +
      'skein-local needs it so that Service traffic between pods keeps its source address (load it, then run `skein-local up` again)');
  }
  for (const f of global) await writeFile(f, '0').catch(() => undefined);
}

export async function bridgeExists(bridge: string): Promise<boolean> {
  return (await run(['ip', 'link', 'show', bridge])).code === 0;
}
