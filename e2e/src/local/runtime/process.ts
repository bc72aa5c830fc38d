// Spawning and signalling container processes. Each runs in its own process group (detached), so a
// signal to -pid reaches everything it started; stdout/stderr append straight to its log file, so logs
// survive a daemon crash.
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, mkdirSync, openSync, readFileSync } from 'node:fs';
import { dirname } from 'node:path';
import type { Journal } from '../state/journal.js';
import { processStartTime } from '../state/journal.js';

export interface Exit { code: number | null; signal: NodeJS.Signals | null }

export interface Spawned { child: ChildProcess; pid: number; startTime: string; exited: Promise<Exit> }

export function spawnLogged(argv: readonly string[], env: Record<string, string>, logPath: string, journal: Journal, what: string): Spawned {
  mkdirSync(dirname(logPath), { recursive: true });
  const fd = openSync(logPath, 'a');
  let child: ChildProcess;
  try {
    child = spawn(argv[0]!, argv.slice(1), { detached: true, stdio: ['ignore', fd, fd], env, cwd: '/' });
  } finally {
    closeSync(fd);
  }
  const exited = new Promise<Exit>((resolvePromise) => {
    child.once('exit', (code, signal) => resolvePromise({ code, signal }));
    child.once('error', () => resolvePromise({ code: 127, signal: null }));
  });
  const pid = child.pid ?? -1;
  const startTime = pid > 0 ? processStartTime(pid) ?? '' : '';
  if (pid > 0) journal.record({ t: 'process', pid, startTime, what });
  return { child, pid, startTime, exited };
}

/** Signals a process group; false when it no longer exists. */
export function signalGroup(pid: number, sig: NodeJS.Signals): boolean {
  try {
    process.kill(-pid, sig);
    return true;
  } catch {
    return false;
  }
}

/** SIGTERM to the group, SIGKILL after graceMs if `exited` has not resolved. */
export async function terminate(pid: number, exited: Promise<unknown>, graceMs: number): Promise<void> {
  if (!signalGroup(pid, 'SIGTERM')) return;
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<'timeout'>((r) => { timer = setTimeout(() => r('timeout'), graceMs); });
  const r = await Promise.race([exited.then(() => 'exited' as const), timedOut]);
  clearTimeout(timer);
  if (r === 'timeout') signalGroup(pid, 'SIGKILL');
  await exited;
  // The leader is gone; stragglers in its group (children it forked) get no grace.
  signalGroup(pid, 'SIGKILL');
}

/** 128+signal, as a shell (and kubelet's terminated state) reports a signal death. */
export function exitCode(e: Exit): number {
  if (e.code !== null) return e.code;
  const nums: Record<string, number> = { SIGHUP: 1, SIGINT: 2, SIGQUIT: 3, SIGKILL: 9, SIGSEGV: 11, SIGPIPE: 13, SIGTERM: 15 };
  return 128 + (nums[e.signal ?? ''] ?? 0);
}

const LAUNCH_STAGES = (c: string[]): boolean =>
  (c[0] === 'ip' && c[1] === 'netns') || (c[0] === 'unshare' && c[1] === '--uts') ||
  (c[0] === '/bin/sh' && c[1] === '-c' && (c[2] ?? '').startsWith('set -e\nprintf')) ||
  (c[0] === 'setpriv' && (c[1] ?? '').startsWith('--reuid='));

/**
 * Waits until the launcher chain (ip netns exec → unshare → sh → setpriv) has exec'd the container's
 * program, so that entering its namespaces (postStart, exec probes) sees the mounts. False if it died.
 */
export async function waitLaunched(pid: number, timeoutMs = 10_000): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    let cmd: string[];
    try { cmd = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0'); } catch { return false; }
    if (cmd.length > 0 && cmd[0] !== '' && !LAUNCH_STAGES(cmd)) return true;
    await new Promise((r) => setTimeout(r, 20));
  }
  return false;
}
