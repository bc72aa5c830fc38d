// Pod side of the node network: one netns per pod, a veth into the bridge, lo up, default route
// (IPv4, and on a dual-stack instance IPv6 too).
import { mkdir, rm, writeFile } from 'node:fs/promises';
import type { LocalConfig } from '../config.js';
import { names } from '../config.js';
import { runOk, runQuiet } from '../exec.js';
import type { Journal } from '../state/journal.js';
import { gateway } from './cidr.js';
import { renderResolvConf } from './hosts.js';

export interface PodNet { netns: string; hostLink: string; ip: string; ip6?: string }

/** Short pod id used in host object names: 8 hex digits of the pod uid. */
export function shortPodId(uid: string): string {
  return uid.replace(/-/g, '').slice(0, 8);
}

export function podNetNames(cfg: LocalConfig, uid: string): { netns: string; hostLink: string } {
  const n = names(cfg);
  return { netns: `${n.netnsPrefix}${shortPodId(uid)}`, hostLink: `${n.linkPrefix}${shortPodId(uid)}` };
}

/** /etc/netns/<netns>: `ip netns exec` bind-mounts each file here over /etc/<file> in the pod. */
export function etcNetnsDir(netns: string): string {
  return `/etc/netns/${netns}`;
}

/** `ip6`: the pod's IPv6 address on a dual-stack instance. */
export async function createPodNetwork(cfg: LocalConfig, journal: Journal, uid: string, ip: string, hosts: string, ip6?: string): Promise<PodNet> {
  const { netns, hostLink } = podNetNames(cfg, uid);
  const etc = etcNetnsDir(netns);
  journal.record({ t: 'dir', path: etc });
  await mkdir(etc, { recursive: true });
  await writeFile(`${etc}/hosts`, hosts);
  await writeFile(`${etc}/resolv.conf`, renderResolvConf());
  journal.record({ t: 'netns', name: netns });
  await runOk(['ip', 'netns', 'add', netns]);
  journal.record({ t: 'link', name: hostLink });
  await runOk(['ip', 'link', 'add', hostLink, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', netns]);
  await runOk(['ip', 'link', 'set', hostLink, 'master', cfg.bridge, 'up']);
  // Hairpin: a pod calling its own Service is DNATed back to itself. With br_netfilter loaded the
  // bridge forwards that frame out of the port it came in on, which it refuses unless hairpin is on
  // (kubelet's --hairpin-mode=hairpin-veth does the same).
  await runOk(['ip', 'link', 'set', 'dev', hostLink, 'type', 'bridge_slave', 'hairpin', 'on']);
  const nsip = (args: string[]): Promise<string> => runOk(['ip', '-n', netns, ...args]);
  await nsip(['link', 'set', 'lo', 'up']);
  await nsip(['addr', 'add', `${ip}/${cfg.podCidr.prefix}`, 'dev', 'eth0']);
  await nsip(['link', 'set', 'eth0', 'up']);
  await nsip(['route', 'add', 'default', 'via', gateway(cfg.podCidr)]);
  if (ip6 && cfg.podCidr6) {
    // nodad: usable at once (the sidecar's init detects IPv6 by this global address; the app may dial at
    // start). The host side of the veth is a bridge port and needs no address of its own.
    await writeFile(`/proc/sys/net/ipv6/conf/${hostLink}/disable_ipv6`, '1').catch(() => undefined);
    await nsip(['addr', 'add', `${ip6}/${cfg.podCidr6.prefix}`, 'dev', 'eth0', 'nodad']);
    await nsip(['-6', 'route', 'add', 'default', 'via', gateway(cfg.podCidr6), 'dev', 'eth0']);
  }
  return { netns, hostLink, ip, ...(ip6 ? { ip6 } : {}) };
}

export async function deletePodNetwork(net: { netns: string; hostLink: string }): Promise<void> {
  await runQuiet(['ip', 'link', 'del', net.hostLink]);
  await runQuiet(['ip', 'netns', 'del', net.netns]);
  await rm(etcNetnsDir(net.netns), { recursive: true, force: true });
}

/** Rewrites the pod's hosts file in place: the bind mounts in running containers keep this inode. */
export async function writePodHosts(netns: string, hosts: string): Promise<void> {
  await writeFile(`${etcNetnsDir(netns)}/hosts`, hosts);
}
