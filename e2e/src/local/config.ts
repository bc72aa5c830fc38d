// Configuration of one skein-local instance, parsed from a plain record (flags, then environment).
import { createHash } from 'node:crypto';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ConfigError } from './errors.js';
import { overlaps, parseCidrList, type Cidr } from './network/cidr.js';

export interface LocalConfig {
  /** Directory that records everything this instance made (files, processes, network objects). */
  readonly stateDir: string;
  /** Linux bridge the pods hang off. */
  readonly bridge: string;
  /** The IPv4 pod range: IPv4 is the primary family (status.podIP, hostIP, the bridge's address). */
  readonly podCidr: Cidr;
  readonly serviceCidr: Cidr;
  /** The IPv6 ranges of a dual-stack instance; both set or both absent. */
  readonly podCidr6?: Cidr;
  readonly serviceCidr6?: Cidr;
  /** Repository root (holds webhook/, dataplane/, manifests/). */
  readonly repoRoot: string;
  /** Short id of this instance, derived from the bridge name: prefixes links and netns names. */
  readonly instanceId: string;
}

const DEFAULTS = {
  stateDir: '/run/skein-local',
  bridge: 'skein0',
  // Dual stack by default, like kind's `ipFamily: dual`: IPv4 first (the primary family), then IPv6.
  podCidr: '10.244.0.0/16,fd00:10:244::/64',
  serviceCidr: '10.96.0.0/16,fd00:10:96::/108',
};

/** The repository root, found from this file's location (e2e/dist/local/config.js). */
export function repoRootFromHere(): string {
  return resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
}

/** Options as given: flag values ('state-dir', …) take precedence over environment variables. */
export function parseConfig(flags: Record<string, string | undefined>, env: Record<string, string | undefined> = {}): LocalConfig {
  const pick = (flag: string, envName: string, dflt: string): string => flags[flag] ?? env[envName] ?? dflt;
  const stateDir = resolve(pick('state-dir', 'SKEIN_LOCAL_STATE_DIR', DEFAULTS.stateDir));
  const bridge = pick('bridge', 'SKEIN_LOCAL_BRIDGE', DEFAULTS.bridge);
  if (!/^[a-zA-Z][a-zA-Z0-9_-]{0,11}$/.test(bridge)) {
    throw new ConfigError(`--bridge "${bridge}": use 1-12 letters, digits, '-' or '_' starting with a letter (it prefixes iptables chain names)`);
  }
  const podText = flags['pod-cidr'] ?? env.SKEIN_LOCAL_POD_CIDR;
  const serviceText = flags['service-cidr'] ?? env.SKEIN_LOCAL_SERVICE_CIDR;
  const pods = rangesOption('pod-cidr', podText ?? DEFAULTS.podCidr, { 4: 28, 6: 120 });
  const services = rangesOption('service-cidr', serviceText ?? DEFAULTS.serviceCidr, { 4: 29, 6: 124 });
  // A range left at its default follows the other one: IPv4-only ranges given for one make both IPv4 only.
  if (podText === undefined && !services.v6) delete pods.v6;
  if (serviceText === undefined && !pods.v6) delete services.v6;
  if (!pods.v6 !== !services.v6) {
    const [has, lacks] = pods.v6 ? ['--pod-cidr', '--service-cidr'] : ['--service-cidr', '--pod-cidr'];
    throw new ConfigError(`${has} has an IPv6 range but ${lacks} has none: give both an IPv6 range (dual stack, e.g. ` +
      `--pod-cidr 10.244.0.0/16,fd00:10:244::/64 --service-cidr 10.96.0.0/16,fd00:10:96::/108) or neither (IPv4 only)`);
  }
  if (services.v6 && services.v6.prefix < 108) {
    throw new ConfigError(`--service-cidr ${services.v6.text}: an IPv6 service range may have at most 20 host bits (a /108 or smaller), as in Kubernetes`);
  }
  for (const [p, s] of [[pods.v4, services.v4], [pods.v6, services.v6]] as const) {
    if (p && s && overlaps(p, s)) throw new ConfigError(`--pod-cidr ${p.text} and --service-cidr ${s.text} overlap: pick disjoint ranges`);
  }
  const repoRoot = resolve(flags['repo-root'] ?? env.SKEIN_LOCAL_REPO_ROOT ?? repoRootFromHere());
  // 6 hex digits: veth names are k<id><8 hex of the pod uid> = 15 characters, the kernel's limit.
  const instanceId = createHash('sha256').update(bridge).digest('hex').slice(0, 6);
  return {
    stateDir, bridge, podCidr: pods.v4, serviceCidr: services.v4,
    ...(pods.v6 && services.v6 ? { podCidr6: pods.v6, serviceCidr6: services.v6 } : {}),
    repoRoot, instanceId,
  };
}

/** `v4[,v6]`: an IPv4 range first (the primary family), optionally one IPv6 range, as Kubernetes lists them. */
function rangesOption(flag: string, value: string, maxPrefix: Record<4 | 6, number>): { v4: Cidr; v6?: Cidr } {
  let list: Cidr[];
  try {
    list = parseCidrList(value);
  } catch (err) {
    throw new ConfigError(`--${flag} "${value}": ${(err as Error).message}`);
  }
  const [v4, v6, ...rest] = list;
  if (!v4 || v4.family !== 4 || (v6 && v6.family !== 6) || rest.length > 0) {
    throw new ConfigError(`--${flag} "${value}": give an IPv4 range, optionally followed by one IPv6 range (e.g. 10.244.0.0/16,fd00:10:244::/64)`);
  }
  for (const c of [v4, v6]) {
    if (c && c.prefix > maxPrefix[c.family]) throw new ConfigError(`--${flag} ${c.text}: too small, use a /${maxPrefix[c.family]} or larger`);
  }
  return v6 ? { v4, v6 } : { v4 };
}

/** The pod ranges as given to --pod-cidr (IPv4 first). */
export function podRanges(cfg: LocalConfig): Cidr[] {
  return cfg.podCidr6 ? [cfg.podCidr, cfg.podCidr6] : [cfg.podCidr];
}

export function serviceRanges(cfg: LocalConfig): Cidr[] {
  return cfg.serviceCidr6 ? [cfg.serviceCidr, cfg.serviceCidr6] : [cfg.serviceCidr];
}

/** `--pod-cidr`'s value for this config (what a child process or the instance record gets). */
export function rangesText(ranges: readonly Cidr[]): string {
  return ranges.map((c) => c.text).join(',');
}

/** Names this instance gives to host objects, so `down` can sweep them by prefix. */
export function names(cfg: LocalConfig): { netnsPrefix: string; linkPrefix: string; chainPrefix: string } {
  return {
    netnsPrefix: `skl-${cfg.bridge}-`,
    linkPrefix: `k${cfg.instanceId}`,
    chainPrefix: `SKL-${cfg.bridge}-`,
  };
}
