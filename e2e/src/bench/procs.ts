// The processes of a pod, found by network namespace: `skein-local exec POD -- readlink
// /proc/self/ns/net` names the pod's netns, then every host process in that netns is classified by
// its command line. This relies on nothing inside skein-local beyond the exec contract.
import { execFile } from 'node:child_process';
import { readdir, readFile, readlink } from 'node:fs/promises';
import { promisify } from 'node:util';
import type { SkeinLocal } from './skein-local.js';

const run = promisify(execFile);

export type ProcRole = 'sidecar' | 'haproxy' | 'server' | 'other';

export interface PodProc {
  pod: string;
  pid: number;
  role: ProcRole;
  cmd: string;
}

export interface ProcSample {
  rssKb: number;
  anonKb: number; // RssAnon: the process's private memory (VmRSS also counts the shared text of the node binary)
  hwmKb: number;
  cpuTicks: number; // utime + stime of all threads, in clock ticks
}

export const CLK_TCK = 100; // Linux USER_HZ on every mainstream architecture

export async function podNetns(sl: SkeinLocal, pod: string, ns: string): Promise<string> {
  const out = await sl.execOk(pod, ns, ['readlink', '/proc/self/ns/net']);
  const id = out.trim();
  if (!/^net:\[\d+\]$/.test(id)) throw new Error(`unexpected netns id from ${ns}/${pod}: ${JSON.stringify(id)}`);
  return id;
}

function classify(cmd: string): ProcRole {
  if (/haproxy/.test(cmd)) return 'haproxy';
  if (/(skein-dp|dataplane\/dist\/main\.js)\s+run\b/.test(cmd)) return 'sidecar';
  if (/bench\/server\.mjs/.test(cmd)) return 'server';
  return 'other';
}

export async function podProcs(sl: SkeinLocal, pod: string, ns: string): Promise<PodProc[]> {
  const netns = await podNetns(sl, pod, ns);
  const found: PodProc[] = [];
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if ((await readlink(`/proc/${entry}/ns/net`)) !== netns) continue;
      const cmd = (await readFile(`/proc/${entry}/cmdline`, 'utf8')).split('\0').join(' ').trim();
      if (!cmd || cmd.startsWith('readlink ')) continue;
      found.push({ pod, pid: Number(entry), role: classify(cmd), cmd: cmd.slice(0, 200) });
    } catch {
      // the process exited while we looked
    }
  }
  return found;
}

export async function sample(pid: number): Promise<ProcSample | null> {
  try {
    const status = await readFile(`/proc/${pid}/status`, 'utf8');
    const kb = (field: string): number => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? 0);
    const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
    // Fields after the parenthesised command name; utime and stime are fields 14 and 15.
    const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return { rssKb: kb('VmRSS'), anonKb: kb('RssAnon'), hwmKb: kb('VmHWM'), cpuTicks: Number(rest[11]) + Number(rest[12]) };
  } catch {
    return null;
  }
}

/** Pins every thread of each process to the given CPU list (taskset -a). */
export async function pin(pids: number[], cpus: string): Promise<void> {
  for (const pid of pids) {
    try {
      await run('taskset', ['-a', '-cp', cpus, String(pid)]);
    } catch {
      // a short-lived helper process (e.g. `skein-dp wait`) may be gone already
    }
  }
}

/**
 * Samples RSS and CPU ticks of `pids` every `everyMs` (wall-clock timestamps), so that CPU can be
 * computed over exactly the window a load generator reports, not over the `skein-local exec` around it.
 */
export class Sampler {
  private readonly series = new Map<number, { t: number; s: ProcSample }[]>();
  private running = true;
  private readonly loop: Promise<void>;

  constructor(private readonly pids: number[], everyMs = 200) {
    this.loop = (async () => {
      while (this.running) {
        await this.tick();
        await new Promise((r) => setTimeout(r, everyMs));
      }
      await this.tick();
    })();
  }

  private async tick(): Promise<void> {
    for (const pid of this.pids) {
      const s = await sample(pid);
      if (!s) continue;
      const list = this.series.get(pid) ?? [];
      list.push({ t: Date.now(), s });
      this.series.set(pid, list);
    }
  }

  async stop(): Promise<void> {
    this.running = false;
    await this.loop;
  }

  peakRssKb(pid: number): number | null {
    const list = this.series.get(pid);
    return list?.length ? Math.max(...list.map((x) => x.s.rssKb)) : null;
  }

  peakAnonKb(pid: number): number | null {
    const list = this.series.get(pid);
    return list?.length ? Math.max(...list.map((x) => x.s.anonKb)) : null;
  }

  /** CPU seconds per wall second between the first and last samples inside [fromMs, toMs]. */
  cores(pid: number, fromMs: number, toMs: number): number | null {
    const inside = (this.series.get(pid) ?? []).filter((x) => x.t >= fromMs && x.t <= toMs);
    const a = inside[0];
    const b = inside[inside.length - 1];
    if (!a || !b || b.t - a.t < 1000) return null;
    return Math.round(((b.s.cpuTicks - a.s.cpuTicks) / CLK_TCK / ((b.t - a.t) / 1000)) * 1000) / 1000;
  }
}
