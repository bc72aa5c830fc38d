// Pod addresses (pure): one per family of the node, the lowest free one of each range.
import { InvalidError } from '../errors.js';
import type { LocalConfig } from '../config.js';
import type { Pod } from '../model/types.js';
import { allocate, canonicalIp, gateway, type Cidr } from './cidr.js';

export interface PodAddresses { ip: string; ip6?: string }

/** Addresses for a new pod, given the pods that exist (their status.podIP/podIPs are taken). */
export function allocatePodIPs(cfg: Pick<LocalConfig, 'podCidr' | 'podCidr6'>, pods: readonly Pod[]): PodAddresses {
  const used = new Set<string>();
  for (const p of pods) for (const ip of [p.status?.podIP, ...(p.status?.podIPs ?? []).map((x) => x.ip)]) if (ip) used.add(canonicalIp(ip));
  const one = (range: Cidr): string => {
    const ip = allocate(range, used, new Set([gateway(range)]));
    if (!ip) throw new InvalidError(`no free pod address left in ${range.text}: delete pods, or start skein-local with a larger --pod-cidr`);
    return ip;
  };
  return cfg.podCidr6 ? { ip: one(cfg.podCidr), ip6: one(cfg.podCidr6) } : { ip: one(cfg.podCidr) };
}

/** status.podIPs: the IPv4 address first (status.podIP, the primary family), then the IPv6 one. */
export function podIPsOf(a: PodAddresses): { ip: string }[] {
  return a.ip6 ? [{ ip: a.ip }, { ip: a.ip6 }] : [{ ip: a.ip }];
}
