// --cpu-prof for the skein scenario: V8 CPU profiles of both sidecars during the load phases.
//
// skein-local gives a container the env of its spec, and the sidecar's spec is written by the
// injector, so a NODE_OPTIONS=--cpu-prof cannot be slipped into it from a pod manifest. Instead the
// harness opens each sidecar's inspector (SIGUSR1, which Node handles by listening on
// 127.0.0.1:9229 inside the pod's network namespace; the capture rules leave loopback alone) and
// runs the same sampling profiler over the inspector protocol. The result is the same .cpuprofile
// format, limited to the load window (start-up is not in it, which is what we want to read).
import type { ChildProcess } from 'node:child_process';
import { copyFile, mkdir, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { BenchConfig } from './config.js';
import type { PodProc } from './procs.js';
import { summariseProfiles, type ProfileSummary } from './profile.js';
import { SkeinLocal } from './skein-local.js';

export class SidecarProfiler {
  readonly notes: string[] = [];
  private readonly agents: { pod: string; file: string; child: ChildProcess; exited: Promise<number> }[] = [];
  private readonly stopFile: string;

  constructor(private readonly sl: SkeinLocal, private readonly config: BenchConfig, private readonly dir: string) {
    this.stopFile = path.join(dir, 'stop');
  }

  async start(procs: PodProc[]): Promise<void> {
    await mkdir(this.dir, { recursive: true }); // the agent runs as root (exec without -c)
    const sidecars = procs.filter((p) => p.role === 'sidecar');
    if (sidecars.length === 0) this.notes.push('--cpu-prof: no skein-proxy process found in the skein pods');
    for (const p of sidecars) {
      process.kill(p.pid, 'SIGUSR1');
      const file = path.join(this.dir, `${p.pod}-${p.pid}.cpuprofile`);
      const agent = path.join(this.config.repoRoot, 'e2e/dist/bench/inspect-profile.js');
      const child = this.sl.spawn(['exec', p.pod, '-n', 'bench-mesh', '--',
        'taskset', '-c', this.config.clientCpu, process.execPath, agent, file, this.stopFile]);
      let stderr = '';
      child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
      const started = new Promise<void>((resolve, reject) => {
        child.stdout?.on('data', (d: Buffer) => { if (d.toString().includes('profiling')) resolve(); });
        child.on('close', () => reject(new Error(`profiler agent for ${p.pod} exited before starting: ${stderr.trim()}`)));
      });
      const exited = new Promise<number>((resolve) => child.on('close', (code) => {
        if (code !== 0) this.notes.push(`--cpu-prof: agent for ${p.pod} exited ${code}: ${stderr.trim().slice(-300)}`);
        resolve(code ?? 1);
      }));
      this.agents.push({ pod: p.pod, file, child, exited });
      try {
        await started;
      } catch (err) {
        this.notes.push(`--cpu-prof: ${err instanceof Error ? err.message : String(err)}`);
      }
    }
  }

  async stop(): Promise<void> {
    await writeFile(this.stopFile, '');
    const guard = setTimeout(() => this.agents.forEach((a) => SkeinLocal.killGroup(a.child)), 60_000);
    await Promise.all(this.agents.map((a) => a.exited));
    clearTimeout(guard);
  }

  /** Summarises the profiles and keeps them in `keepDir` (open them in Chrome DevTools). */
  async summary(keepDir: string): Promise<ProfileSummary | undefined> {
    const files: string[] = [];
    for (const a of this.agents) if ((await a.exited) === 0) files.push(a.file);
    if (files.length === 0) return undefined;
    await rm(keepDir, { recursive: true, force: true }); // no profiles of an earlier run mixed in
    await mkdir(keepDir, { recursive: true });
    for (const f of files) await copyFile(f, path.join(keepDir, path.basename(f)));
    return summariseProfiles(files, this.config.repoRoot);
  }
}
