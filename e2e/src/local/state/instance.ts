// Which bridge and address ranges a state dir belongs to, recorded by `up`. Every command checks it,
// so one run with the right state dir but a forgotten SKEIN_LOCAL_BRIDGE (or range) cannot start a
// second node over the first, nor make `down` sweep another instance's netns, links and chains by name.
import { readFileSync, writeFileSync } from 'node:fs';
import { podRanges, rangesText, serviceRanges, type LocalConfig } from '../config.js';
import { ConfigError } from '../errors.js';

interface InstanceRecord { bridge: string; podCidr: string; serviceCidr: string }

/** Ranges as comma lists (`10.244.0.0/16,fd00:10:244::/64`): what --pod-cidr/--service-cidr take back. */
function recordOf(cfg: LocalConfig): InstanceRecord {
  return { bridge: cfg.bridge, podCidr: rangesText(podRanges(cfg)), serviceCidr: rangesText(serviceRanges(cfg)) };
}

/** Written by `up` once the state dir exists; removed by `down` with the rest of the runtime state. */
export function recordInstance(cfg: LocalConfig, file: string): void {
  writeFileSync(file, `${JSON.stringify(recordOf(cfg))}\n`, { mode: 0o600 });
}

/** Throws when the state dir records another bridge or other ranges than `cfg`. No record: nothing to check. */
export function checkInstance(cfg: LocalConfig, file: string): void {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return;
  }
  let got: Partial<InstanceRecord>;
  try {
    got = JSON.parse(text) as Partial<InstanceRecord>;
  } catch {
    throw new ConfigError(`${file} is not valid JSON: remove it only if no node runs from ${cfg.stateDir}`);
  }
  const want = recordOf(cfg);
  const differs = (Object.keys(want) as (keyof InstanceRecord)[]).filter((k) => got[k] !== want[k]);
  if (differs.length > 0) {
    throw new ConfigError(`state dir ${cfg.stateDir} belongs to the node with bridge ${got.bridge}, pods ${got.podCidr}, ` +
      `services ${got.serviceCidr}, not ${want.bridge}, ${want.podCidr}, ${want.serviceCidr}: pass the same --bridge, ` +
      '--pod-cidr and --service-cidr (or SKEIN_LOCAL_BRIDGE, SKEIN_LOCAL_POD_CIDR, SKEIN_LOCAL_SERVICE_CIDR) as to `up`');
  }
}
