// Host side of the node network: the bridge, routes, sysctls and our iptables chains.
import { existsSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import type { LocalConfig } from '../config.js';
import { names } from '../config.js';
import { LocalError } from '../errors.js';
import { run, runOk } from '../exec.js';
import type { Journal } from '../state/journal.js';
import { gateway } from './cidr.js';
import { chainNames, renderJumps, renderRules, type ServiceRule } from './iptables-render.js';

/** Metric of the fallback blackhole routes: worse than the bridge's connected route, so they only bite without it. */
const BLACKHOLE_METRIC = '4095';

export async function setupHostNetwork(cfg: LocalConfig, journal: Journal): Promise<void> {
  const br = cfg.bridge;
  const gw = gateway(cfg.podCidr);
  await requireBridgeNetfilter();
  journal.record({ t: 'bridge', name: br });
  // nf_call_*: bridged frames of this bridge go through iptables whatever the host-wide
  // bridge-nf-call-* sysctls say. Needed so that a pod's reply to another pod's connection through a
  // Service VIP (bridged, pod to pod) meets conntrack and leaves with the VIP as its source.
  await runOk(['ip', 'link', 'add', br, 'type', 'bridge', 'nf_call_iptables', '1', 'nf_call_ip6tables', '1']);
  await runOk(['ip', 'addr', 'add', `${gw}/${cfg.podCidr.prefix}`, 'dev', br]);
  await runOk(['ip', 'link', 'set', br, 'up']);
  // Service VIPs route onto the bridge so host-originated packets reach nat OUTPUT; DNAT rewrites them.
  await addRoute(journal, [cfg.serviceCidr.text, 'dev', br, 'scope', 'link']);
  await addRoute(journal, ['blackhole', cfg.podCidr.text, 'metric', BLACKHOLE_METRIC]);
  await addRoute(journal, ['blackhole', cfg.serviceCidr.text, 'metric', BLACKHOLE_METRIC]);
  // Forwarding for packets that arrive on our bridge only (a pod reaching a Service VIP is routed by
  // the host). The host-wide net.ipv4.ip_forward is left as it is: the setting goes with the bridge.
  await writeSysctl(`net/ipv4/conf/${br}/forwarding`, '1');
  // Lets a Service DNAT to 127.0.0.1 (skein-cp listens on loopback) for packets arriving on the bridge.
  await writeSysctl(`net/ipv4/conf/${br}/route_localnet`, '1');
  await writeFile(`/proc/sys/net/ipv6/conf/${br}/disable_ipv6`, '1').catch(() => undefined);
  const c = chainNames(names(cfg).chainPrefix);
  for (const [table, chain] of [['nat', c.svc], ['nat', c.post], ['filter', c.fwd], ['filter', c.out]] as const) {
    journal.record({ t: 'chain', table, name: chain });
  }
  await applyServiceRules(cfg, []);
  for (const [table, chain, args] of renderJumps({ serviceCidr: cfg.serviceCidr, chainPrefix: names(cfg).chainPrefix })) {
    journal.record({ t: 'jump', table, chain, args });
    await runOk(['iptables', '-w', '-t', table, '-I', chain, '1', ...args]);
  }
}

async function addRoute(journal: Journal, args: string[]): Promise<void> {
  journal.record({ t: 'route', args });
  await runOk(['ip', 'route', 'add', ...args]);
}

/** Replaces our chains' contents atomically. */
export async function applyServiceRules(cfg: LocalConfig, services: readonly ServiceRule[]): Promise<void> {
  const text = renderRules({ bridge: cfg.bridge, podCidr: cfg.podCidr, serviceCidr: cfg.serviceCidr, chainPrefix: names(cfg).chainPrefix, services });
  await runOk(['iptables-restore', '-w', '--noflush'], text);
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
