// Renders the capture rules as iptables-restore input for one address family. Pure: the same config
// gives the same text (golden files in dataplane/testdata/init/). Rules are written in the canonical
// form iptables-save prints, so a test can compare what the kernel holds with what was rendered.
// docs/capture.md explains each rule.
import type { IpFamily } from './cidr.js';
import type { InitConfig } from './config.js';
import { INBOUND_SOURCE } from '../contract.js';

export const CHAINS = {
  inbound: 'SKEIN_INBOUND',
  inboundRedirect: 'SKEIN_IN_REDIRECT',
  output: 'SKEIN_OUTPUT',
  redirect: 'SKEIN_REDIRECT',
  dropInvalid: 'SKEIN_DROP_INVALID',
} as const;

interface FamilyAddresses {
  /** Every loopback destination. */
  loopback: string;
  /** Source address the inbound proxy binds when it forwards to the app (Istio's 127.0.0.6). */
  inboundPassthroughSource: string;
}

export const FAMILY_ADDRESSES: Record<IpFamily, FamilyAddresses> = {
  4: { loopback: '127.0.0.0/8', inboundPassthroughSource: `${INBOUND_SOURCE[4]}/32` },
  6: { loopback: '::1/128', inboundPassthroughSource: `${INBOUND_SOURCE[6]}/128` },
};

/** One table of the restore input: its own chains (declared, which flushes them) and its rules. */
export interface TableRules {
  table: 'mangle' | 'nat';
  chains: string[];
  rules: string[];
  /** The jumps from built-in chains into ours; added only when missing (see apply.ts). */
  jumps: string[];
}

export function buildTables(config: InitConfig, family: IpFamily): TableRules[] {
  return [mangleTable(), natTable(config, family)];
}

/** The iptables-restore text for one family (what --dry-run prints). */
export function renderRules(config: InitConfig, family: IpFamily): string {
  const tool = family === 4 ? 'iptables-restore' : 'ip6tables-restore';
  const header = [`# skein-dp init: transparent TCP capture, IPv${family} (${tool} --noflush input)`];
  return [...header, ...buildTables(config, family).flatMap((t) => renderTable(t, t.jumps))].join('\n') + '\n';
}

export function renderTable(table: TableRules, jumps: string[], extra: string[] = []): string[] {
  return [
    `*${table.table}`,
    ...table.chains.map((c) => `:${c} - [0:0]`),
    ...table.rules,
    ...jumps,
    ...extra,
    'COMMIT',
  ];
}

// A conntrack-INVALID packet (e.g. out of window) has no NAT entry, so it would reach the app's real
// port un-redirected and the app's RST would kill the proxied connection (istio#36566). Drop it.
function mangleTable(): TableRules {
  const c = CHAINS.dropInvalid;
  return {
    table: 'mangle',
    chains: [c],
    rules: [`-A ${c} -p tcp -m conntrack --ctstate INVALID -j DROP`],
    jumps: [`-A PREROUTING -p tcp -j ${c}`],
  };
}

function natTable(config: InitConfig, family: IpFamily): TableRules {
  const { loopback, inboundPassthroughSource } = FAMILY_ADDRESSES[family];
  const inboundReturns = [...new Set([config.inboundPort, ...config.excludeInboundPorts])];
  const { inbound, inboundRedirect, output, redirect } = CHAINS;
  const rules = [
    // Inbound (PREROUTING, and the pod's own traffic to itself from OUTPUT below).
    ...inboundReturns.map((p) => `-A ${inbound} -p tcp -m tcp --dport ${p} -j RETURN`),
    `-A ${inbound} -p tcp -j ${inboundRedirect}`,
    `-A ${inboundRedirect} -p tcp -j REDIRECT --to-ports ${config.inboundPort}`,
    // Outbound, in Istio's order.
    `-A ${output} -s ${inboundPassthroughSource} -o lo -j RETURN`,
    `-A ${output} ! -d ${loopback} -o lo -j ${inbound}`,
    `-A ${output} -o lo -j RETURN`,
    `-A ${output} -m owner --uid-owner ${config.proxyUid} -j RETURN`,
    `-A ${output} -m owner --gid-owner ${config.proxyGid} -j RETURN`,
    `-A ${output} -d ${loopback} -j RETURN`,
    ...config.excludeOutboundPorts.map((p) => `-A ${output} -p tcp -m tcp --dport ${p} -j RETURN`),
    ...config.excludeOutboundCidrs.filter((c) => c.family === family).map((c) => `-A ${output} -d ${c.text} -j RETURN`),
    `-A ${output} -j ${redirect}`,
    `-A ${redirect} -p tcp -j REDIRECT --to-ports ${config.outboundPort}`,
  ];
  return {
    table: 'nat',
    chains: [inbound, inboundRedirect, output, redirect],
    rules,
    jumps: [`-A PREROUTING -p tcp -j ${inbound}`, `-A OUTPUT -p tcp -j ${output}`],
  };
}
