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
    return { rssKb: kb('VmRSS'), hwmKb: kb('VmHWM'), cpuTicks: Number(rest[11]) + Number(rest[12]) };
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

/** Samples RSS every `everyMs` until stopped; returns the peak RSS seen per pid. */
export function watchPeakRss(pids: number[], everyMs = 250): { stop: () => Promise<Map<number, number>> } {
  const peak = new Map<number, number>();
  let running = true;
  const loop = (async () => {
    while (running) {
      for (const pid of pids) {
        const s = await sample(pid);
        if (s) peak.set(pid, Math.max(peak.get(pid) ?? 0, s.rssKb));
      }
      await new Promise((r) => setTimeout(r, everyMs));
    }
  })();
  return {
    stop: async () => {
      running = false;
      await loop;
      return peak;
    },
  };
}
