// emptyDir `medium: Memory` as kubelet mounts it (pkg/volume/emptydir): a tmpfs at the volume dir,
// sized like calculateEmptyDirMemorySize — the node's memory (skein-local has no allocatable, so the
// host's total), lowered to the pod's memory limit when every container declares one, lowered to
// `sizeLimit` when that is smaller; `noswap` where the kernel has it (6.4+). The mount is journaled
// before it is made; pod deletion and `down` unmount it.
import { release } from 'node:os';
import { readFileSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { InvalidError, VolumeError } from '../errors.js';
import { run } from '../exec.js';
import { quantityBytes } from '../model/quantity.js';
import type { Container, Pod, Volume } from '../model/types.js';
import type { Journal } from '../state/journal.js';

/** Bytes of a Memory emptyDir: min(node memory, pod memory limit if all containers set one, sizeLimit). */
export function memoryVolumeBytes(pod: Pod, v: Volume, nodeMemoryBytes: number): number {
  let size = nodeMemoryBytes;
  const podLimit = podMemoryLimit(pod);
  if (podLimit !== undefined && podLimit > 0 && podLimit <= size) size = podLimit;
  const sizeLimit = v.emptyDir?.sizeLimit;
  if (sizeLimit !== undefined) {
    let limit: number;
    try {
      limit = quantityBytes(sizeLimit);
    } catch (err) {
      throw new VolumeError(`volume "${v.name}": emptyDir.sizeLimit: ${(err as Error).message}`);
    }
    if (limit > 0 && limit <= size) size = limit;
  }
  return size;
}

/**
 * The pod's memory limit as kubelet computes it for the pod cgroup: set only when every container
 * (init and app) declares limits.memory; app containers and native sidecars add up, and a regular init
 * container (which runs alone) can raise it.
 */
export function podMemoryLimit(pod: Pod): number | undefined {
  const limitOf = (c: Container): number | undefined => {
    const l = c.resources?.limits?.memory;
    if (l === undefined) return undefined;
    try { return quantityBytes(l); } catch { return undefined; }
  };
  const all = [...(pod.spec.initContainers ?? []), ...pod.spec.containers];
  const limits = all.map(limitOf);
  if (limits.some((l) => l === undefined)) return undefined;
  let running = 0;
  let initMax = 0;
  all.forEach((c, i) => {
    const isInit = i < (pod.spec.initContainers ?? []).length;
    if (isInit && c.restartPolicy !== 'Always') initMax = Math.max(initMax, limits[i]!);
    else running += limits[i]!;
  });
  return Math.max(running, initMax);
}

/** Refuses, at apply time, a Memory emptyDir whose sizeLimit is not a quantity (the API server does). */
export function checkMemoryVolumes(pod: Pod): void {
  for (const v of pod.spec.volumes ?? []) {
    if (v.emptyDir?.sizeLimit === undefined) continue;
    try {
      quantityBytes(v.emptyDir.sizeLimit);
    } catch (err) {
      throw new InvalidError(`pod ${pod.metadata.name ?? pod.metadata.generateName}: volume "${v.name}": emptyDir.sizeLimit: ${(err as Error).message}`);
    }
  }
}

/** Mounts a tmpfs of `bytes` at dir, unless dir already is a tmpfs mount point (setup is idempotent, as kubelet's). */
export async function mountTmpfs(dir: string, bytes: number, journal: Journal): Promise<void> {
  await mkdir(dir, { recursive: true, mode: 0o777 });
  if (mountsAt(dir).some((m) => m.fstype === 'tmpfs')) return;
  journal.record({ t: 'mount', path: dir });
  const options = [`size=${bytes}`, ...(noswapSupported() ? ['noswap'] : [])];
  const r = await run(['mount', '-t', 'tmpfs', '-o', options.join(','), 'tmpfs', dir]);
  if (r.code !== 0) throw new VolumeError(`mounting a tmpfs (medium: Memory) at ${dir} failed: ${(r.stderr || r.stdout).trim()}`);
}

/** Unmounts every mount at or below dir, deepest first (lazily if busy). Returns how many were removed. */
export async function unmountUnder(dir: string): Promise<number> {
  const targets = readMounts().map((m) => m.target).filter((t) => t === dir || t.startsWith(`${dir}/`))
    .sort((a, b) => b.length - a.length);
  let removed = 0;
  for (const t of targets) {
    if ((await run(['umount', t])).code === 0 || (await run(['umount', '-l', t])).code === 0) removed++;
  }
  return removed;
}

interface MountInfo { target: string; fstype: string }

function mountsAt(dir: string): MountInfo[] {
  return readMounts().filter((m) => m.target === dir);
}

/** /proc/self/mountinfo: field 5 is the mount point (octal escapes for space, tab, newline, backslash), after " - " the fs type. */
export function readMounts(text: string = readFileSync('/proc/self/mountinfo', 'utf8')): MountInfo[] {
  const out: MountInfo[] = [];
  for (const line of text.split('\n')) {
    if (!line) continue;
    const [left, right] = line.split(' - ');
    const target = left?.split(' ')[4];
    if (target === undefined || right === undefined) continue;
    out.push({ target: target.replace(/\\([0-7]{3})/g, (_m, o: string) => String.fromCharCode(parseInt(o, 8))), fstype: right.split(' ')[0]! });
  }
  return out;
}

/** tmpfs has `noswap` since Linux 6.4; kubelet adds it where the kernel supports it. */
function noswapSupported(): boolean {
  const m = /^(\d+)\.(\d+)/.exec(release());
  return !!m && (Number(m[1]) > 6 || (Number(m[1]) === 6 && Number(m[2]) >= 4));
}
