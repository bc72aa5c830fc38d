// A thin wrapper around the skein-local command line (docs/contracts.md), pointed at the
// benchmark's own instance (state dir, bridge and ranges that never collide with the demo or tests).
import { spawn } from 'node:child_process';
import path from 'node:path';
import type { BenchConfig } from './config.js';

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

export interface PodView {
  metadata: { name: string; namespace: string; annotations?: Record<string, string>; labels?: Record<string, string> };
  spec: { containers: { name: string }[]; initContainers?: { name: string }[] };
  status?: { podIP?: string; phase?: string };
}

export class SkeinLocal {
  private readonly cli: string;
  private readonly env: NodeJS.ProcessEnv;

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

  /** The environment that points skein-local at the benchmark's instance. */
  environment(): NodeJS.ProcessEnv {
    return this.env;
  }

  /** Runs `skein-local ARGS`; never throws on a non-zero exit (see `ok`). */
  run(args: string[], timeoutMs = 120_000): Promise<RunResult> {
    return new Promise((resolve, reject) => {
      const child = spawn(process.execPath, [this.cli, ...args], {
        env: this.env,
        cwd: this.config.repoRoot,
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
      child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
      child.on('error', (err) => {
        clearTimeout(timer);
        reject(err);
      });
      child.on('close', (code, signal) => {
        clearTimeout(timer);
        resolve({ code: code ?? (signal ? 128 : 1), stdout, stderr: signal ? `${stderr}\n(killed by ${signal} after ${timeoutMs} ms)` : stderr });
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
    return this.run(['down'], 120_000);
  }

  apply(file: string): Promise<string> {
    return this.ok(['apply', '-f', file]);
  }

  delete(file: string): Promise<RunResult> {
    return this.run(['delete', '-f', file], 120_000);
  }

  waitReady(pod: string, ns: string, timeoutS: number): Promise<string> {
    return this.ok(['wait', 'pod', pod, '-n', ns, '--for', 'ready', '--timeout', `${timeoutS}s`], (timeoutS + 30) * 1000);
  }

  async pod(name: string, ns: string): Promise<PodView> {
    return JSON.parse(await this.ok(['get', 'pod', name, '-n', ns, '-o', 'json'])) as PodView;
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
