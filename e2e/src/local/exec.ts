// Running host commands (ip, iptables, sysctl) and collecting their output.
import { spawn } from 'node:child_process';
import { CommandError } from './errors.js';

export interface RunResult {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs argv, resolves with its output whatever the exit code. `input` is written to stdin. */
export function run(argv: readonly string[], input?: string, timeoutMs = 30_000): Promise<RunResult> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(argv[0]!, argv.slice(1), { stdio: ['pipe', 'pipe', 'pipe'], timeout: timeoutMs });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => { stdout += d.toString(); });
    child.stderr.on('data', (d: Buffer) => { stderr += d.toString(); });
    child.on('error', reject);
    child.on('close', (code) => resolvePromise({ code, stdout, stderr }));
    child.stdin.on('error', () => { /* the command may exit before reading stdin */ });
    child.stdin.end(input ?? '');
  });
}

/** Runs argv and throws a CommandError unless it exits 0. */
export async function runOk(argv: readonly string[], input?: string): Promise<string> {
  const r = await run(argv, input);
  if (r.code !== 0) throw new CommandError(argv, r.code, r.stderr || r.stdout);
  return r.stdout;
}

/** Runs argv and ignores failure (cleanup paths: the object may already be gone). */
export async function runQuiet(argv: readonly string[]): Promise<boolean> {
  try {
    return (await run(argv)).code === 0;
  } catch {
    return false;
  }
}

/** Quotes a string for /bin/sh. */
export function shQuote(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}
