// Configuration of one skein-local instance, parsed from a plain record (flags, then environment).
import { createHash } from 'node:crypto';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ConfigError } from './errors.js';
import { parseCidr, type Cidr } from './network/cidr.js';

export interface LocalConfig {
  /** Directory that records everything this instance made (files, processes, network objects). */
  readonly stateDir: string;
  /** Linux bridge the pods hang off. */
  readonly bridge: string;
  readonly podCidr: Cidr;
  readonly serviceCidr: Cidr;
  /** Repository root (holds webhook/, dataplane/, manifests/). */
  readonly repoRoot: string;
  /** Short id of this instance, derived from the bridge name: prefixes links and netns names. */
  readonly instanceId: string;
}

const DEFAULTS = {
  stateDir: '/run/skein-local',
  bridge: 'skein0',
  podCidr: '10.244.0.0/16',
  serviceCidr: '10.96.0.0/16',
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
  const podCidr = cidrOption('pod-cidr', pick('pod-cidr', 'SKEIN_LOCAL_POD_CIDR', DEFAULTS.podCidr));
  const serviceCidr = cidrOption('service-cidr', pick('service-cidr', 'SKEIN_LOCAL_SERVICE_CIDR', DEFAULTS.serviceCidr));
  if (podCidr.prefix > 28) throw new ConfigError(`--pod-cidr ${podCidr.text}: too small, use a /28 or larger`);
  if (serviceCidr.prefix > 29) throw new ConfigError(`--service-cidr ${serviceCidr.text}: too small, use a /29 or larger`);
  if (overlaps(podCidr, serviceCidr)) {
    throw new ConfigError(`--pod-cidr ${podCidr.text} and --service-cidr ${serviceCidr.text} overlap: pick disjoint ranges`);
  }
  const repoRoot = resolve(flags['repo-root'] ?? env.SKEIN_LOCAL_REPO_ROOT ?? repoRootFromHere());
  // 6 hex digits: veth names are k<id><8 hex of the pod uid> = 15 characters, the kernel's limit.
  const instanceId = createHash('sha256').update(bridge).digest('hex').slice(0, 6);
  return { stateDir, bridge, podCidr, serviceCidr, repoRoot, instanceId };
}

function cidrOption(flag: string, value: string): Cidr {
  try {
    return parseCidr(value);
  } catch (err) {
    throw new ConfigError(`--${flag} "${value}": ${(err as Error).message}`);
  }
}

function overlaps(a: Cidr, b: Cidr): boolean {
  const p = Math.min(a.prefix, b.prefix);
  const mask = p === 0 ? 0 : (0xffffffff << (32 - p)) >>> 0;
  return ((a.network & mask) >>> 0) === ((b.network & mask) >>> 0);
}

/** Names this instance gives to host objects, so `down` can sweep them by prefix. */
export function names(cfg: LocalConfig): { netnsPrefix: string; linkPrefix: string; chainPrefix: string } {
  return {
    netnsPrefix: `skl-${cfg.bridge}-`,
    linkPrefix: `k${cfg.instanceId}`,
    chainPrefix: `SKL-${cfg.bridge}-`,
  };
}
