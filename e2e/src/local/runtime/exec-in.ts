// Runs a command inside a container (postStart/preStop exec hooks, exec probes): output to the
// container's log, exit code back, killed after timeoutMs.
import { spawn } from 'node:child_process';
import { closeSync, mkdirSync, openSync } from 'node:fs';
import { dirname } from 'node:path';

export function runInContainer(argv: readonly string[], env: ReadonlyMap<string, string>, logPath: string, timeoutMs: number): Promise<number> {
  mkdirSync(dirname(logPath), { recursive: true });
  const fd = openSync(logPath, 'a');
  return new Promise((resolvePromise) => {
    const child = spawn(argv[0]!, argv.slice(1), { detached: true, stdio: ['ignore', fd, fd], env: Object.fromEntries(env) });
    closeSync(fd);
    const timer = setTimeout(() => { try { process.kill(-child.pid!, 'SIGKILL'); } catch { /* gone */ } }, timeoutMs);
    child.once('error', () => { clearTimeout(timer); resolvePromise(127); });
    child.once('exit', (code) => { clearTimeout(timer); resolvePromise(code ?? 137); });
  });
}
