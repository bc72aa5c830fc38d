// Flags of `skein-dp init` (docs/contracts.md), parsed in one place from a plain record so tests pass a
// map; every error names the flag. Imports node:util (parseArgs), sibling init modules, ../contract and the
// pure value parsers of ../config/values.
import { parseArgs } from 'node:util';
import { parseCidr } from './cidr.js';
import type { Cidr } from './cidr.js';
import { InitFlagError } from './errors.js';
import { PORTS, PROXY_GID, PROXY_UID } from '../contract.js';
import { flagInParseArgsError, portNumber } from '../config/values.js';

export type Ipv6Mode = 'auto' | 'on' | 'off';

export interface InitConfig {
  proxyUid: number;
  proxyGid: number;
  outboundPort: number;
  inboundPort: number;
  /** Sorted, deduplicated; always holds the admin (15000) and health (15020) ports. */
  excludeInboundPorts: number[];
  /** Sorted, deduplicated. */
  excludeOutboundPorts: number[];
  /** Normalised, deduplicated, in the given order; each applies only to its own family's table. */
  excludeOutboundCidrs: Cidr[];
  ipv6: Ipv6Mode;
  dryRun: boolean;
}

/** Ports of the sidecar that must never be redirected (DESIGN.md: admin 15000, health/metrics 15020). */
export const ALWAYS_EXCLUDED_INBOUND_PORTS: readonly number[] = [PORTS.admin, PORTS.health];

export const INIT_DEFAULTS = {
  'proxy-uid': String(PROXY_UID),
  'proxy-gid': String(PROXY_GID),
  'outbound-port': String(PORTS.outbound),
  'inbound-port': String(PORTS.inbound),
  ipv6: 'auto',
} as const;

export const INIT_USAGE = `skein-dp init [flags]   write the pod's iptables capture rules (init container)
  --proxy-uid <n> --proxy-gid <n>   the proxy's UID/GID, never captured (default ${PROXY_UID} ${PROXY_GID})
  --outbound-port <n>               outbound capture port (default ${PORTS.outbound})
  --inbound-port <n>                inbound capture port (default ${PORTS.inbound})
  --exclude-inbound-ports <csv>     inbound ports left alone (${PORTS.admin} and ${PORTS.health} always are)
  --exclude-outbound-ports <csv>    outbound destination ports left alone
  --exclude-outbound-cidrs <csv>    outbound destination CIDRs left alone (IPv4 and IPv6)
  --ipv6 auto|on|off                also write ip6tables rules (auto: when the pod has a global IPv6 address)
  --dry-run                         print the iptables-restore input and change nothing`;

export type InitFlagRecord = Record<string, string | boolean | undefined>;

const STRING_FLAGS = [
  'proxy-uid',
  'proxy-gid',
  'outbound-port',
  'inbound-port',
  'exclude-inbound-ports',
  'exclude-outbound-ports',
  'exclude-outbound-cidrs',
  'ipv6',
] as const;

/** argv after `init` → record. Unknown flags and stray arguments are errors naming them. */
export function initArgvToRecord(argv: string[]): InitFlagRecord {
  const options = Object.fromEntries(STRING_FLAGS.map((f) => [f, { type: 'string' as const }]));
  try {
    const { values } = parseArgs({
      args: argv,
      options: { ...options, 'dry-run': { type: 'boolean' } },
      strict: true,
      allowPositionals: false,
    });
    return values as InitFlagRecord;
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    const flag = flagInParseArgsError(message)?.replace(/^--?/, '') ?? 'init';
    throw new InitFlagError(flag, `${message.split('\n')[0]} (see docs/contracts.md for the skein-init flags)`);
  }
}

export function parseInitFlags(record: InitFlagRecord): InitConfig {
  const text = (flag: string): string | undefined => {
    const v = record[flag];
    if (v === undefined || v === false) return undefined;
    if (v === true) throw new InitFlagError(flag, 'needs a value');
    return v;
  };
  const withDefault = (flag: keyof typeof INIT_DEFAULTS): string => text(flag) ?? INIT_DEFAULTS[flag];

  const outboundPort = parsePort('outbound-port', withDefault('outbound-port'));
  const inboundPort = parsePort('inbound-port', withDefault('inbound-port'));
  if (outboundPort === inboundPort) {
    throw new InitFlagError('inbound-port', `must differ from --outbound-port (both ${inboundPort})`);
  }
  const excludeInbound = parsePortList('exclude-inbound-ports', text('exclude-inbound-ports'));
  return {
    proxyUid: parseId('proxy-uid', withDefault('proxy-uid')),
    proxyGid: parseId('proxy-gid', withDefault('proxy-gid')),
    outboundPort,
    inboundPort,
    excludeInboundPorts: sortedUnique([...ALWAYS_EXCLUDED_INBOUND_PORTS, ...excludeInbound]),
    excludeOutboundPorts: sortedUnique(parsePortList('exclude-outbound-ports', text('exclude-outbound-ports'))),
    excludeOutboundCidrs: parseCidrList('exclude-outbound-cidrs', text('exclude-outbound-cidrs')),
    ipv6: parseIpv6Mode(withDefault('ipv6')),
    dryRun: record['dry-run'] === true || record['dry-run'] === 'true',
  };
}

// Stricter than `skein-dp run`'s port flags: no 0 (a port to pick is meaningless in a rule) and no
// ranges (docs/capture.md); the number itself is read by the same portNumber().
function parsePort(flag: string, value: string): number {
  const n = portNumber(value);
  if (n === undefined || n < 1) {
    throw new InitFlagError(flag, `"${value}" is not a TCP port (a number from 1 to 65535)`);
  }
  return n;
}

/** Comma list; blanks around items and empty items (",,", trailing comma) are ignored. */
function parsePortList(flag: string, value: string | undefined): number[] {
  return splitList(value).map((item) => parsePort(flag, item));
}

function parseCidrList(flag: string, value: string | undefined): Cidr[] {
  const seen = new Set<string>();
  const out: Cidr[] = [];
  for (const item of splitList(value)) {
    const cidr = parseCidr(item);
    if (typeof cidr === 'string') throw new InitFlagError(flag, cidr);
    if (!seen.has(cidr.text)) out.push(cidr);
    seen.add(cidr.text);
  }
  return out;
}

function parseId(flag: string, value: string): number {
  const v = value.trim();
  const n = /^\d{1,10}$/.test(v) ? Number(v) : NaN;
  if (!Number.isInteger(n) || n > 4294967294) {
    throw new InitFlagError(flag, `"${value}" is not a numeric user/group id`);
  }
  if (n === 0) {
    throw new InitFlagError(flag, `must not be 0: traffic of root would then escape capture (the proxy runs as ${PROXY_UID})`);
  }
  return n;
}

function parseIpv6Mode(value: string): Ipv6Mode {
  if (value === 'auto' || value === 'on' || value === 'off') return value;
  throw new InitFlagError('ipv6', `"${value}" is not one of auto, on, off`);
}

function splitList(value: string | undefined): string[] {
  if (value === undefined) return [];
  return value
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
}

function sortedUnique(ports: number[]): number[] {
  return [...new Set(ports)].sort((a, b) => a - b);
}
