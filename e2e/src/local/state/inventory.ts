// What an instance has on the host right now (live recorded processes, its netns and veths), and the
// counts `down` reports: the daemon measures what its shutdown removed (before minus after), the CLI
// adds what its own sweep removed, so the summary is the total whoever did the work.
import { readdirSync } from 'node:fs';
import type { LocalConfig } from '../config.js';
import { names } from '../config.js';
import { run } from '../exec.js';
import type { StatePaths } from '../paths.js';
import { processStartTime, readJournal } from './journal.js';

export interface RemovedCounts { pods: number; processes: number; netns: number; links: number; chains: number; routes: number }

export const NOTHING_REMOVED: RemovedCounts = { pods: 0, processes: 0, netns: 0, links: 0, chains: 0, routes: 0 };

export function addCounts(a: RemovedCounts, b: Partial<RemovedCounts>): RemovedCounts {
  const out = { ...a };
  for (const k of Object.keys(out) as (keyof RemovedCounts)[]) out[k] += Number(b[k] ?? 0) || 0;
  return out;
}

/** "5 pods stopped (12 processes); 5 network namespaces, 6 links, 9 iptables chains, 3 routes removed". */
export function describeCounts(c: RemovedCounts): string {
  const n = (k: number, one: string, many = `${one}s`): string => `${k} ${k === 1 ? one : many}`;
  return `${n(c.pods, 'pod')} stopped (${n(c.processes, 'process', 'processes')}); ${n(c.netns, 'network namespace')}, ` +
    `${n(c.links, 'link')}, ${n(c.chains, 'iptables chain')}, ${n(c.routes, 'route')} removed`;
}

export async function listNetns(): Promise<string[]> {
  return (await run(['ip', 'netns', 'list'])).stdout.split('\n').map((l) => l.split(' ')[0]!).filter(Boolean);
}

export async function listLinks(): Promise<string[]> {
  return (await run(['ip', '-o', 'link', 'show'])).stdout.split('\n')
    .map((l) => /^\d+: ([^:@]+)/.exec(l)?.[1]).filter((x): x is string => !!x);
}

/** Pods set up on the host (each has a runtime record until its worker tore it down). */
export function podRecords(paths: Pick<StatePaths, 'runtimeDir'>): string[] {
  try { return readdirSync(paths.runtimeDir).filter((f) => f.endsWith('.json')); } catch { return []; }
}

export interface Inventory { pods: Set<string>; processes: Set<string>; netns: Set<string>; links: Set<string> }

/** Pods, journaled processes still alive (pid + start time; `except`: the caller itself), our netns and veths. */
export async function takeInventory(cfg: LocalConfig, paths: Pick<StatePaths, 'journal' | 'runtimeDir'>, except = process.pid): Promise<Inventory> {
  const n = names(cfg);
  const processes = new Set<string>();
  for (const e of readJournal(paths.journal)) {
    if (e.t === 'process' && e.pid !== except && e.startTime !== '' && processStartTime(e.pid) === e.startTime) processes.add(`${e.pid}/${e.startTime}`);
  }
  return {
    pods: new Set(podRecords(paths)),
    processes,
    netns: new Set((await listNetns()).filter((x) => x.startsWith(n.netnsPrefix))),
    links: new Set((await listLinks()).filter((x) => x.startsWith(n.linkPrefix))),
  };
}

/** What was there before and is gone after. */
export function removedBetween(before: Inventory, after: Inventory): RemovedCounts {
  const gone = (a: Set<string>, b: Set<string>): number => [...a].filter((x) => !b.has(x)).length;
  return {
    ...NOTHING_REMOVED, pods: gone(before.pods, after.pods), processes: gone(before.processes, after.processes),
    netns: gone(before.netns, after.netns), links: gone(before.links, after.links),
  };
}
