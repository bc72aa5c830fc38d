// One container across its restarts: start (spawn, then postStart), probes, exit, kill. Reports its
// Kubernetes ContainerStatus; the pod worker decides restarts and ordering.
import type { Logger } from '../log.js';
import type { Container, ContainerStatus, Probe } from '../model/types.js';
import { runHandler, type ProbeTarget } from '../probes/probe.js';
import { ProbeLoop, type ProbeKind } from '../probes/loop.js';
import type { Journal } from '../state/journal.js';
import { launchArgv, type LaunchSpec } from './launch.js';
import { exitCode, spawnLogged, terminate, waitLaunched, type Exit, type Spawned } from './process.js';

export type ContainerKind = 'init' | 'sidecar' | 'app';

export interface Prepared { launch: LaunchSpec; env: Map<string, string> }

export interface RunnerDeps {
  log: Logger;
  journal: Journal;
  logPath: string;
  podIP: string;
  /** Builds the launch spec (env, mounts, user, argv); throws a message for CreateContainerConfigError. */
  prepare: (c: Container) => Promise<Prepared>;
  /** Runs argv inside this container (exec probes, exec hooks). */
  execIn: (pid: number, launch: LaunchSpec, env: Map<string, string>, argv: string[], timeoutMs: number) => Promise<number>;
  onChange: () => void;
  onStarted: (pid: number, startTime: string, launch: LaunchSpec) => void;
}

const now = (): string => new Date().toISOString().replace(/\.\d+Z$/, 'Z');

export class ContainerRunner {
  readonly status: ContainerStatus;
  private proc: Spawned | undefined;
  private prepared: Prepared | undefined;
  private probes: ProbeLoop[] = [];
  /** Resolves when the startup probe (if any) has succeeded for the current run. */
  private startedWaiters: ((ok: boolean) => void)[] = [];
  killedBy: string | undefined;
  /** Set when the pod stops this container for good (sidecars after the app containers finished). */
  retired = false;

  constructor(readonly spec: Container, readonly kind: ContainerKind, private readonly d: RunnerDeps, waitingReason: string) {
    this.status = {
      name: spec.name, image: spec.image ?? '', ready: false, started: false, restartCount: 0,
      state: { waiting: { reason: waitingReason } }, lastState: {},
    };
  }

  get pid(): number | undefined { return this.proc?.pid; }
  get running(): boolean { return 'running' in this.status.state; }

  /** Spawns the process and runs postStart. Resolves (wrapped: promises flatten) with this run's exit. */
  async start(): Promise<{ exited: Promise<Exit> }> {
    this.killedBy = undefined;
    try {
      this.prepared = await this.d.prepare(this.spec);
    } catch (err) {
      return { exited: this.failToCreate((err as Error).message) };
    }
    const { launch, env } = this.prepared;
    const proc = spawnLogged(launchArgv(launch), Object.fromEntries(env), this.d.logPath, this.d.journal, `container ${this.spec.name}`);
    if (proc.pid < 0) return { exited: this.failToCreate(`could not start ${launch.argv[0]}`) };
    this.proc = proc;
    this.keepLastState();
    this.status.state = { running: { startedAt: now() } };
    this.status.ready = false;
    this.status.started = false;
    this.d.log.info({ pid: proc.pid, argv: launch.argv, uid: launch.user.uid }, 'container started');
    const exited = proc.exited.then((e) => this.onExit(e));
    await waitLaunched(proc.pid);
    this.d.onStarted(proc.pid, proc.startTime, launch);
    this.d.onChange();
    const post = this.spec.lifecycle?.postStart;
    if (post && this.running) {
      // As kubelet: the hook runs to completion before the next container starts; a failed hook kills the container.
      const ok = await runHandler(post, this.target(), 10 * 60_000);
      if (!ok && this.running) {
        this.d.log.warn('postStart hook failed: killing the container');
        this.killedBy = 'FailedPostStartHook';
        await this.kill(2_000);
      }
    }
    if (this.running) this.startProbes();
    return { exited };
  }

  /** Resolves true once started (startup probe passed, or no startup probe), false if this run ended first. */
  whenStarted(): Promise<boolean> {
    if (this.status.started) return Promise.resolve(true);
    if (!this.running) return Promise.resolve(false);
    return new Promise((r) => this.startedWaiters.push(r));
  }

  async kill(graceMs: number): Promise<void> {
    this.stopProbes();
    const p = this.proc;
    if (!p || !this.running) return;
    await terminate(p.pid, p.exited, graceMs);
  }

  async runPreStop(timeoutMs: number): Promise<void> {
    const h = this.spec.lifecycle?.preStop;
    if (h && this.running) await runHandler(h, this.target(), timeoutMs);
  }

  setBackoff(message: string): void {
    this.keepLastState();
    this.status.state = { waiting: { reason: 'CrashLoopBackOff', message } };
    this.d.onChange();
  }

  /** The previous run's termination moves to lastState when the container leaves the terminated state. */
  private keepLastState(): void {
    if ('terminated' in this.status.state) this.status.lastState = { terminated: this.status.state.terminated };
  }

  private failToCreate(message: string): Promise<Exit> {
    this.d.log.error({ err: message }, 'container could not be created');
    const t = now();
    this.keepLastState();
    this.status.state = { terminated: { exitCode: 128, reason: 'CreateContainerError', message, finishedAt: t } };
    this.d.onChange();
    return Promise.resolve({ code: 128, signal: null });
  }

  private onExit(e: Exit): Exit {
    this.stopProbes();
    const started = 'running' in this.status.state ? this.status.state.running.startedAt : undefined;
    const code = exitCode(e);
    const reason = this.killedBy ?? (code === 0 ? 'Completed' : 'Error');
    this.status.state = { terminated: { exitCode: code, reason, startedAt: started, finishedAt: now(), ...(e.signal ? { signal: code - 128 } : {}) } };
    this.status.ready = false;
    this.status.started = false;
    this.d.log.info({ exitCode: code, signal: e.signal, reason }, 'container exited');
    for (const w of this.startedWaiters.splice(0)) w(false);
    this.d.onChange();
    return e;
  }

  private target(): ProbeTarget {
    const pid = this.proc?.pid ?? -1;
    const prepared = this.prepared!;
    return {
      podIP: this.d.podIP,
      ports: this.spec.ports ?? [],
      exec: (argv, timeoutMs) => this.d.execIn(pid, prepared.launch, prepared.env, argv, timeoutMs),
    };
  }

  private startProbes(): void {
    const s = this.spec;
    const startReadinessAndLiveness = (): void => {
      if (s.readinessProbe) this.addProbe('readiness', s.readinessProbe);
      else { this.status.ready = true; this.d.onChange(); }
      if (s.livenessProbe) this.addProbe('liveness', s.livenessProbe);
    };
    if (s.startupProbe) {
      this.addProbe('startup', s.startupProbe);
    } else {
      this.markStarted();
      startReadinessAndLiveness();
    }
    this.afterStartup = startReadinessAndLiveness;
  }

  private afterStartup: (() => void) | undefined;

  private markStarted(): void {
    this.status.started = true;
    for (const w of this.startedWaiters.splice(0)) w(true);
    this.d.onChange();
  }

  private addProbe(kind: ProbeKind, probe: Probe): void {
    const loop = new ProbeLoop(kind, probe, {
      attempt: (timeoutMs) => runHandler(probe, this.target(), timeoutMs),
      onSuccess: () => {
        if (kind === 'startup') { this.markStarted(); this.afterStartup?.(); }
        if (kind === 'readiness') { this.status.ready = true; this.d.onChange(); }
      },
      onFailure: () => {
        if (kind === 'readiness') { this.status.ready = false; this.d.onChange(); return; }
        this.d.log.warn({ probe: kind }, `${kind} probe failed: killing the container`);
        this.killedBy = kind === 'liveness' ? 'Error' : 'StartupProbeFailed';
        void this.kill(5_000);
      },
    });
    this.probes.push(loop);
    loop.start();
  }

  private stopProbes(): void {
    for (const p of this.probes.splice(0)) p.stop();
  }
}
