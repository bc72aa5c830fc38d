// `down`: removes everything an instance made, from the journal first (exact objects), then by sweeping
// names with the instance's prefixes (objects a crash left unjournaled). Works with the daemon dead.
import { readdirSync, readFileSync, rmdirSync, statSync, unlinkSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import type { LocalConfig } from '../config.js';
import { names, podRanges, serviceRanges } from '../config.js';
import { IPV6_FORWARDING, releaseSysctl } from '../network/host-sysctl.js';
import { run, runQuiet } from '../exec.js';
import type { StatePaths } from '../paths.js';
import { listLinks, listNetns, podRecords, type RemovedCounts } from './inventory.js';
import { unmountUnder } from '../volumes/tmpfs.js';
import { removeImages } from '../daemon/image.js';
import { processStartTime, readJournal, type JournalEntry } from './journal.js';

/** What this teardown itself removed (a live daemon's shutdown reports its own part: state/inventory.ts). */
export type TeardownReport = RemovedCounts;

export async function teardown(cfg: LocalConfig, paths: StatePaths): Promise<TeardownReport> {
  const journal = readJournal(paths.journal);
  // Pods whose runtime record is still there were running when the daemon died (a live daemon's
  // shutdown removes the record of each pod it stops).
  const report: TeardownReport = { pods: podRecords(paths).length, processes: 0, netns: 0, links: 0, chains: 0, routes: 0 };
  report.processes += await killJournaled(journal);
  const n = names(cfg);
  // Processes still inside our network namespaces (a container spawned just before a crash).
  const nsList = await listNetns();
  for (const ns of nsList.filter((x) => x.startsWith(n.netnsPrefix))) {
    const pids = (await run(['ip', 'netns', 'pids', ns])).stdout.split('\n').filter(Boolean).map(Number);
    for (const pid of pids) { try { process.kill(pid, 'SIGKILL'); report.processes++; } catch { /* gone */ } }
  }
  report.processes += await killByStateDir(paths);
  for (const e of [...journal].reverse()) await undo(e, report);
  await sweep(cfg, report);
  // Mounts a crash left unjournaled, before the volumes under them are removed (rm would empty a live tmpfs).
  await unmountUnder(paths.podsDir);
  for (const f of [paths.apiSocket, paths.journal, paths.daemonPid, paths.instance]) await rm(f, { force: true });
  for (const d of [paths.storeDir, paths.runtimeDir, paths.podsDir, paths.cpDir]) await rm(d, { recursive: true, force: true });
  await removeImages(paths);
  return report;
}

/**
 * The daemon and skein-cp of this instance found by their command lines (`--state-dir` names our
 * state dir), for when the journal is lost: they are the only processes outside the pods' netns.
 */
async function killByStateDir(paths: StatePaths): Promise<number> {
  const mine = (argv: string[]): boolean => {
    const i = argv.indexOf('--state-dir');
    const dir = i >= 0 ? argv[i + 1] : undefined;
    return (dir === paths.root && argv.includes('daemon')) || (dir === paths.cpDir && argv.includes('local'));
  };
  const pids: number[] = [];
  for (const d of readdirSync('/proc').filter((x) => /^\d+$/.test(x))) {
    const pid = Number(d);
    if (pid === process.pid) continue;
    try {
      if (mine(readFileSync(`/proc/${d}/cmdline`, 'utf8').split('\0'))) pids.push(pid);
    } catch { /* exited */ }
  }
  for (const pid of pids) signal(pid, 'SIGTERM');
  const deadline = Date.now() + 5_000;
  const alive = (pid: number): boolean => { try { process.kill(pid, 0); return true; } catch { return false; } };
  while (Date.now() < deadline && pids.some(alive)) await new Promise((r) => setTimeout(r, 100));
  for (const pid of pids.filter(alive)) signal(pid, 'SIGKILL');
  return pids.length;
}

async function killJournaled(journal: JournalEntry[]): Promise<number> {
  const live = journal.filter((e): e is Extract<JournalEntry, { t: 'process' }> => e.t === 'process')
    .filter((e) => e.startTime !== '' && processStartTime(e.pid) === e.startTime);
  for (const p of live) signal(p.pid, 'SIGTERM');
  const deadline = Date.now() + 5_000;
  while (Date.now() < deadline && live.some((p) => processStartTime(p.pid) === p.startTime)) await new Promise((r) => setTimeout(r, 100));
  for (const p of live) if (processStartTime(p.pid) === p.startTime) signal(p.pid, 'SIGKILL');
  return live.length;
}

function signal(pid: number, sig: NodeJS.Signals): void {
  // Group first (containers and skein-cp lead their own group), then the pid itself (the daemon).
  try { process.kill(-pid, sig); } catch { /* not a group leader */ }
  try { process.kill(pid, sig); } catch { /* gone */ }
}

async function undo(e: JournalEntry, r: TeardownReport): Promise<void> {
  switch (e.t) {
    case 'jump':
      while (await runQuiet([e.ip6 ? 'ip6tables' : 'iptables', '-w', '-t', e.table, '-D', e.chain, ...e.args])) { /* remove duplicates too */ }
      return;
    case 'chain':
      await runQuiet([e.ip6 ? 'ip6tables' : 'iptables', '-w', '-t', e.table, '-F', e.name]);
      if (await runQuiet([e.ip6 ? 'ip6tables' : 'iptables', '-w', '-t', e.table, '-X', e.name])) r.chains++;
      return;
    case 'sysctl':
      try { releaseSysctl(e.key, e.holder); } catch { /* reported by the next up */ }
      return;
    case 'netns':
      if (await runQuiet(['ip', 'netns', 'del', e.name])) r.netns++;
      return;
    case 'link': case 'bridge':
      if (await runQuiet(['ip', 'link', 'del', e.name])) r.links++;
      return;
    case 'route':
      if (await runQuiet(['ip', 'route', 'del', ...e.args])) r.routes++;
      return;
    case 'dir':
      await rm(e.path, { recursive: true, force: true });
      return;
    case 'mountpoint':
      try {
        if (statSync(e.path).isDirectory()) rmdirSync(e.path);
        else if (statSync(e.path).size === 0) unlinkSync(e.path);
      } catch { /* not empty, or gone */ }
      return;
    case 'mount':
      await unmountUnder(e.path);
      return;
    case 'process':
      return;
  }
}

/** Everything named with this instance's prefixes, journaled or not. */
async function sweep(cfg: LocalConfig, r: TeardownReport): Promise<void> {
  const n = names(cfg);
  for (const ns of (await listNetns()).filter((x) => x.startsWith(n.netnsPrefix))) {
    if (await runQuiet(['ip', 'netns', 'del', ns])) r.netns++;
  }
  try {
    for (const d of readdirSync('/etc/netns').filter((x) => x.startsWith(n.netnsPrefix))) await rm(`/etc/netns/${d}`, { recursive: true, force: true });
  } catch { /* no /etc/netns */ }
  for (const l of (await listLinks()).filter((x) => x.startsWith(n.linkPrefix) || x === cfg.bridge)) {
    if (await runQuiet(['ip', 'link', 'del', l])) r.links++;
  }
  for (const cidr of [...podRanges(cfg), ...serviceRanges(cfg)].map((c) => c.text)) {
    while (await runQuiet(['ip', 'route', 'del', 'blackhole', cidr])) r.routes++;
  }
  // A host-wide sysctl held for this state dir whose journal entry was lost (a no-op without a record).
  try { releaseSysctl(IPV6_FORWARDING, cfg.stateDir); } catch { /* reported by the next up */ }
  for (const [tool, table] of [['iptables', 'nat'], ['iptables', 'filter'], ['ip6tables', 'nat'], ['ip6tables', 'filter']] as const) {
    const dump = (await run([`${tool}-save`, '-t', table])).stdout.split('\n');
    // Jumps into our chains from chains that are not ours.
    for (const line of dump) {
      const m = /^-A (\S+) (.*-j (\S+).*)$/.exec(line);
      if (m && m[3]!.startsWith(n.chainPrefix) && !m[1]!.startsWith(n.chainPrefix)) {
        await runQuiet(['sh', '-c', `${tool} -w -t ${table} -D ${m[1]} ${m[2]}`]);
      }
    }
    for (const line of dump) {
      const m = /^:(\S+) /.exec(line);
      if (m && m[1]!.startsWith(n.chainPrefix)) {
        await runQuiet([tool, '-w', '-t', table, '-F', m[1]!]);
        if (await runQuiet([tool, '-w', '-t', table, '-X', m[1]!])) r.chains++;
      }
    }
  }
}
