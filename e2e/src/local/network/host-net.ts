// Host side of the node network: the bridge, routes, sysctls and our iptables chains.
import { writeFile } from 'node:fs/promises';
import type { LocalConfig } from '../config.js';
import { names } from '../config.js';
import { run, runOk } from '../exec.js';
import type { Journal } from '../state/journal.js';
import { gateway } from './cidr.js';
import { chainNames, renderJumps, renderRules, type ServiceRule } from './iptables-render.js';

/** Metric of the fallback blackhole routes: worse than the bridge's connected route, so they only bite without it. */
const BLACKHOLE_METRIC = '4095';

export async function setupHostNetwork(cfg: LocalConfig, journal: Journal): Promise<void> {
  const br = cfg.bridge;
  const gw = gateway(cfg.podCidr);
  journal.record({ t: 'bridge', name: br });
  await runOk(['ip', 'link', 'add', br, 'type', 'bridge']);
  await runOk(['ip', 'addr', 'add', `${gw}/${cfg.podCidr.prefix}`, 'dev', br]);
  await runOk(['ip', 'link', 'set', br, 'up']);
  // Service VIPs route onto the bridge so host-originated packets reach nat OUTPUT; DNAT rewrites them.
  await addRoute(journal, [cfg.serviceCidr.text, 'dev', br, 'scope', 'link']);
  await addRoute(journal, ['blackhole', cfg.podCidr.text, 'metric', BLACKHOLE_METRIC]);
  await addRoute(journal, ['blackhole', cfg.serviceCidr.text, 'metric', BLACKHOLE_METRIC]);
  await runOk(['sysctl', '-q', '-w', 'net.ipv4.ip_forward=1']);
  // Lets a Service DNAT to 127.0.0.1 (skein-cp listens on loopback) for packets arriving on the bridge.
  await runOk(['sysctl', '-q', '-w', `net.ipv4.conf.${br}.route_localnet=1`]);
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

export async function bridgeExists(bridge: string): Promise<boolean> {
  return (await run(['ip', 'link', 'show', bridge])).code === 0;
}
