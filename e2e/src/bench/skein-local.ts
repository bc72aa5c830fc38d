// A thin wrapper around the skein-local command line (docs/contracts.md), pointed at the
// benchmark's own instance (state dir, bridge and ranges that never collide with the demo or tests).
// Not the suite's LocalMesh: that one picks a free bridge/range slot and a temp work dir per test
// process, and runs children without process groups; the bench needs its fixed instance, a kill of
// the whole group (exec does not forward signals) and killAll on an interrupt. The pod shape is shared.
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import type { PodJson } from '../suite/harness/local-mesh.js';
import type { BenchConfig } from './config.js';

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}


export class SkeinLocal {
  private readonly cli: string;
  private readonly env: NodeJS.ProcessEnv;
  // Every CLI run gets its own process group: `skein-local exec` does not forward signals, so on a
  // timeout or an interrupt the whole group (the CLI and what it runs in the pod) is killed.
  private readonly active = new Set<ChildProcess>();
  private stopped = false; // after killAll: killable runs fail at once instead of starting

  constructor(private readonly config: BenchConfig) {
    this.cli = path.join(config.repoRoot, 'e2e/dist/cli.js');
    const sl = config.skeinLocal;
    this.env = {
      ...process.env,
      SKEIN_LOCAL_STATE_DIR: sl.stateDir,
      SKEIN_LOCAL_BRIDGE: sl.bridge,
      SKEIN_LOCAL_POD_CIDR: sl.podCidr,
      SKEIN_LOCAL_SERVICE_CIDR: sl.serviceCidr,
    };
  }

  /** Starts `skein-local ARGS` in its own process group; stdout/stderr piped. `killAll` spares
   *  runs started with killable=false (`down` must finish). */
  spawn(args: string[], killable = true): ChildProcess {
    const child = spawn(process.execPath, [this.cli, ...args], {
      env: this.env,
      cwd: this.config.repoRoot,
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    });
    if (killable) {
      this.active.add(child);
      child.on('close', () => this.active.delete(child));
    }
    return child;
  }

  /** Kills the process group of one CLI run (the CLI and whatever it started in a pod). */
  static killGroup(child: ChildProcess): void {
    try {
      if (child.pid) process.kill(-child.pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }

  /** Kills every CLI run still going (interrupt). */
  killAll(): void {
    this.stopped = true;
    for (const c of this.active) SkeinLocal.killGroup(c);
  }

  /** Runs `skein-local ARGS`; never throws on a non-zero exit (see `ok`). */
  run(args: string[], timeoutMs = 120_000, killable = true): Promise<RunResult> {
    if (killable && this.stopped) return Promise.resolve({ code: 130, stdout: '', stderr: 'interrupted' });
    return new Promise((resolve, reject) => {
      const child = this.spawn(args, killable);
      let stdout = '';
      let stderr = '';
      child.stdout?.on('data', (d: Buffer) => (stdout += d.toString()));
      child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
      let timedOut = false;
      const timer = setTimeout(() => {
        timedOut = true;
        SkeinLocal.killGroup(child);
      }, timeoutMs);
      child.on('error', (err) => {
        clearTimeout(timer);
        reject(err);
      });
      child.on('close', (code, signal) => {
        clearTimeout(timer);
        resolve({ code: code ?? (signal ? 128 : 1), stdout, stderr: signal ? `${stderr}\n(killed by ${signal}${timedOut ? ` after the ${timeoutMs} ms timeout` : ''})` : stderr });
      });
    });
  }

  /** Runs `skein-local ARGS` and returns stdout; throws with stderr when it fails. */
  async ok(args: string[], timeoutMs?: number): Promise<string> {
    const r = await this.run(args, timeoutMs);
    if (r.code !== 0) {
      throw new Error(`skein-local ${args.join(' ')} exited ${r.code}: ${(r.stderr || r.stdout).trim().slice(-2000)}`);
    }
    return r.stdout;
  }

  up(): Promise<string> {
    return this.ok(['up'], 180_000);
  }

  down(): Promise<RunResult> {
    return this.run(['down'], 120_000, false);
  }

  apply(file: string): Promise<string> {
    return this.ok(['apply', '-f', file]);
  }

  delete(file: string): Promise<RunResult> {
    return this.run(['delete', '-f', file], 120_000, false);
  }

  waitReady(pod: string, ns: string, timeoutS: number): Promise<string> {
    return this.ok(['wait', 'pod', pod, '-n', ns, '--for', 'ready', '--timeout', `${timeoutS}s`], (timeoutS + 30) * 1000);
  }

  async pod(name: string, ns: string): Promise<PodJson> {
    return JSON.parse(await this.ok(['get', 'pod', name, '-n', ns, '-o', 'json'])) as PodJson;
  }

  exec(pod: string, ns: string, cmd: string[], timeoutMs = 180_000): Promise<RunResult> {
    return this.run(['exec', pod, '-n', ns, '--', ...cmd], timeoutMs);
  }

  async execOk(pod: string, ns: string, cmd: string[], timeoutMs?: number): Promise<string> {
    const r = await this.exec(pod, ns, cmd, timeoutMs);
    if (r.code !== 0) {
      throw new Error(`exec in ${ns}/${pod}: ${cmd.join(' ')} exited ${r.code}: ${(r.stderr || r.stdout).trim().slice(-2000)}`);
    }
    return r.stdout;
  }

  admin(pod: string, ns: string, p: string): Promise<RunResult> {
    return this.run(['admin', pod, p, '-n', ns], 30_000);
  }
}
