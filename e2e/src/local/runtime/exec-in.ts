// Runs a command inside a container (argv from launch.ts's enterArgv): for postStart/preStop exec hooks
// and exec probes (output to the container's log, killed after timeoutMs), and for `skein-local exec`
// (attached to the caller's stdio).
import { spawn } from 'node:child_process';
import { accessSync, closeSync, constants, mkdirSync, openSync } from 'node:fs';
import { constants as os } from 'node:os';
import { delimiter, dirname, join } from 'node:path';

export function runInContainer(argv: readonly string[], env: ReadonlyMap<string, string>, logPath: string, timeoutMs: number): Promise<number> {
  mkdirSync(dirname(logPath), { recursive: true });
  const fd = openSync(logPath, 'a');
  return new Promise((resolvePromise) => {
    const child = spawn(hostProgram(argv[0]!), argv.slice(1), { detached: true, stdio: ['ignore', fd, fd], env: Object.fromEntries(env) });
    closeSync(fd);
    const timer = setTimeout(() => { try { process.kill(-child.pid!, 'SIGKILL'); } catch { /* gone */ } }, timeoutMs);
    child.once('error', () => { clearTimeout(timer); resolvePromise(127); });
    child.once('exit', (code) => { clearTimeout(timer); resolvePromise(code ?? 137); });
  });
}

/**
 * Runs argv with the caller's stdout and stderr (and stdin when `stdin`; else /dev/null, as kubectl
 * without -i). Resolves with its exit code (128+N for a signal). SIGINT, SIGTERM and SIGHUP sent to
 * the caller are passed on.
 */
export function runAttached(argv: readonly string[], env: ReadonlyMap<string, string>, stdin: boolean): Promise<number> {
  return new Promise((resolvePromise) => {
    const child = spawn(hostProgram(argv[0]!), argv.slice(1), { stdio: [stdin ? 'inherit' : 'ignore', 'inherit', 'inherit'], env: Object.fromEntries(env) });
    const forward = (sig: NodeJS.Signals): void => { try { child.kill(sig); } catch { /* gone */ } };
    const signals: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];
    for (const s of signals) process.on(s, forward);
    const done = (code: number): void => {
      for (const s of signals) process.off(s, forward);
      resolvePromise(code);
    };
    child.once('error', () => done(127));
    child.once('exit', (code, signal) => done(code ?? 128 + (signal ? os.signals[signal] : 0)));
  });
}

/**
 * The launcher (nsenter) found on the caller's PATH: the child's environment is the container's,
 * whose PATH may not hold it.
 */
function hostProgram(name: string): string {
  if (name.includes('/')) return name;
  for (const dir of (process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin').split(delimiter)) {
    const p = join(dir, name);
    try { accessSync(p, constants.X_OK); return p; } catch { /* next */ }
  }
  return name;
}
