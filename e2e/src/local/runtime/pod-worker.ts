// Runs one pod as kubelet would: network, volumes, init containers in order (native sidecars stay up
// once started), app containers in order (each after the previous one's postStart), restarts with
// backoff per restartPolicy, probes, and a graceful stop. Publishes status through ctx.onStatus.
import type { KeyObject } from 'node:crypto';
import { existsSync, statSync } from 'node:fs';
import { mkdir, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { LocalConfig } from '../config.js';
import type { Logger } from '../log.js';
import type { Container, ContainerStatus, Pod } from '../model/types.js';
import { podIPsOf } from '../network/ipam.js';
import { createPodNetwork, deletePodNetwork, podNetNames } from '../network/pod-net.js';
import { containerLogPath, runtimeRecordPath, type StatePaths } from '../paths.js';
import type { Journal } from '../state/journal.js';
import { prepareVolumes, tokenRefreshSeconds, type PreparedVolume } from '../volumes/prepare.js';
import { unmountUnder } from '../volumes/tmpfs.js';
import { commandContext, containerProcess, mapSkeinDp, type CommandContext } from './command.js';
import { ContainerRunner, type Prepared } from './container.js';
import { buildEnv, type Lookup, type NodeFacts } from './env.js';
import { enterArgv, resolveUser, type LaunchSpec, type Mount } from './launch.js';
import { ensureMountTarget } from './mountpoints.js';
import { runInContainer } from './exec-in.js';
import { backoffMs, podConditions, podPhase, type PodProgress } from './status.js';
import type { RuntimeRecord } from '../state/runtime-record.js';

export interface PodContext {
  cfg: LocalConfig;
  paths: StatePaths;
  journal: Journal;
  log: Logger;
  lookup: (ns: string) => Lookup;
  node: NodeFacts;
  signingKey: KeyObject;
  nodePath: string;
  hostsFor: (pod: Pod, ip: string, ip6?: string) => string;
  onStatus: (pod: Pod, status: NonNullable<Pod['status']>) => void;
}

const sleep = (ms: number, signal: AbortSignal): Promise<void> => new Promise((r) => {
  const t = setTimeout(r, ms);
  signal.addEventListener('abort', () => { clearTimeout(t); r(); }, { once: true });
});

export class PodWorker {
  private readonly abort = new AbortController();
  private readonly init: ContainerRunner[] = [];
  private readonly apps: ContainerRunner[] = [];
  private readonly progress: PodProgress = { initialized: false, appsStarted: false };
  private volumes = new Map<string, PreparedVolume>();
  private done: Promise<void> = Promise.resolve();
  private tokenTimer: NodeJS.Timeout | undefined;
  private readonly log: Logger;
  private readonly record: RuntimeRecord;
  private readonly startTime = new Date().toISOString().replace(/\.\d+Z$/, 'Z');

  /** `ip6`: the pod's IPv6 address on a dual-stack node. */
  constructor(private readonly ctx: PodContext, readonly pod: Pod, readonly ip: string, readonly ip6?: string) {
    const ns = pod.metadata.namespace ?? 'default';
    this.log = ctx.log.child({ ns, pod: pod.metadata.name });
    const net = podNetNames(ctx.cfg, pod.metadata.uid!);
    this.record = { namespace: ns, name: pod.metadata.name!, uid: pod.metadata.uid!, netns: net.netns, hostLink: net.hostLink, podIP: ip, containers: {} };
    for (const c of pod.spec.initContainers ?? []) {
      this.init.push(this.runner(c, c.restartPolicy === 'Always' ? 'sidecar' : 'init', 'PodInitializing'));
    }
    for (const c of pod.spec.containers) this.apps.push(this.runner(c, 'app', 'ContainerCreating'));
  }

  get stopping(): boolean { return this.abort.signal.aborted; }
  get ns(): string { return this.pod.metadata.namespace ?? 'default'; }

  start(): void {
    this.publish();
    this.done = this.run().catch((err: Error) => {
      this.log.error({ err: err.message }, 'pod failed');
      this.progress.final = 'Failed';
      this.progress.message = err.message;
      this.publish();
    });
  }

  /** Graceful stop: preStop + SIGTERM to app containers, then sidecars in reverse order; then teardown. */
  async stop(): Promise<void> {
    this.abort.abort();
    if (this.tokenTimer) clearInterval(this.tokenTimer);
    const grace = Math.min(this.pod.spec.terminationGracePeriodSeconds ?? 30, 30) * 1000;
    await Promise.all(this.apps.map(async (r) => { await r.runPreStop(grace); await r.kill(grace); }));
    for (const r of [...this.init].reverse()) await r.kill(grace);
    await this.done;
    await this.recordWrites;
    await deletePodNetwork(this.record);
    await unmountUnder(this.podDir()); // medium: Memory emptyDirs, before their dirs are removed
    await rm(this.podDir(), { recursive: true, force: true });
    await rm(runtimeRecordPath(this.ctx.paths, this.ns, this.record.name), { force: true });
    this.log.info('pod stopped');
  }

  private async run(): Promise<void> {
    // Logs belong to this pod instance: a re-created pod of the same name starts with empty logs.
    await rm(join(this.ctx.paths.logsDir, this.ns, this.record.name), { recursive: true, force: true });
    await createPodNetwork(this.ctx.cfg, this.ctx.journal, this.pod.metadata.uid!, this.ip, this.ctx.hostsFor(this.pod, this.ip, this.ip6), this.ip6);
    await this.writeRecord();
    this.publish(); // lets the Service controller rewrite hosts now that the pod's file exists
    await this.prepareVolumesUntilReady();
    if (this.stopping) return;
    const refresh = tokenRefreshSeconds(this.pod);
    if (refresh) this.tokenTimer = setInterval(() => void this.prepareVolumesOnce().catch(() => undefined), refresh * 1000);
    for (const r of this.init) {
      if (this.stopping) return;
      if (r.kind === 'sidecar') {
        void this.supervise(r, () => undefined);
        while (!this.stopping && !(await r.whenStarted())) await sleep(200, this.abort.signal);
      } else if (!(await this.runToCompletion(r))) {
        if (this.stopping) return;
        this.progress.final = 'Failed';
        this.progress.message = `init container ${r.spec.name} failed`;
        await this.stopSidecars();
        this.publish();
        return;
      }
    }
    this.progress.initialized = true;
    this.publish();
    const supervisions: Promise<void>[] = [];
    for (const r of this.apps) {
      if (this.stopping) return;
      await new Promise<void>((firstStart) => { supervisions.push(this.supervise(r, firstStart)); });
    }
    this.progress.appsStarted = true;
    this.publish();
    await Promise.all(supervisions);
    if (this.stopping) return;
    // No app container will run again (restartPolicy Never/OnFailure): stop sidecars so a Job completes.
    await this.stopSidecars();
    const failed = this.apps.some((r) => 'terminated' in r.status.state && r.status.state.terminated.exitCode !== 0);
    this.progress.final = failed ? 'Failed' : 'Succeeded';
    this.publish();
  }

  /** Runs a container, restarting it per policy, until it is done for good or the pod stops. */
  private async supervise(r: ContainerRunner, firstStart: () => void): Promise<void> {
    const policy = r.kind === 'sidecar' ? 'Always' : (this.pod.spec.restartPolicy ?? 'Always');
    for (;;) {
      let exited: Promise<{ code: number | null }>;
      try {
        exited = (await r.start()).exited;
      } finally {
        firstStart();
      }
      const e = await exited;
      if (this.stopping || r.retired) return;
      const ok = e.code === 0 && !r.killedBy;
      if (!(policy === 'Always' || (policy === 'OnFailure' && !ok))) return;
      const delay = backoffMs(r.status.restartCount);
      r.setBackoff(`back-off ${delay / 1000}s restarting failed container=${r.spec.name}`);
      await sleep(delay, this.abort.signal);
      if (this.stopping || r.retired) return;
      r.status.restartCount++;
    }
  }

  private async runToCompletion(r: ContainerRunner): Promise<boolean> {
    for (;;) {
      const e = await (await r.start()).exited;
      if (this.stopping) return false;
      if (e.code === 0) return true;
      if ((this.pod.spec.restartPolicy ?? 'Always') === 'Never') return false;
      const delay = backoffMs(r.status.restartCount);
      r.setBackoff(`back-off ${delay / 1000}s restarting failed init container=${r.spec.name}`);
      await sleep(delay, this.abort.signal);
      if (this.stopping) return false;
      r.status.restartCount++;
    }
  }

  private async stopSidecars(): Promise<void> {
    for (const r of [...this.init].reverse()) {
      if (r.kind !== 'sidecar') continue;
      r.retired = true;
      await r.kill(10_000);
    }
  }

  private async prepareVolumesUntilReady(): Promise<void> {
    for (let attempt = 0; !this.stopping; attempt++) {
      try {
        await this.prepareVolumesOnce();
        return;
      } catch (err) {
        const msg = (err as Error).message;
        if (attempt === 0) this.log.warn({ err: msg }, 'volumes not ready, retrying');
        for (const r of [...this.init, ...this.apps]) r.status.state = { waiting: { reason: 'ContainerCreating', message: msg } };
        this.progress.message = msg;
        this.publish();
        await sleep(1000, this.abort.signal);
      }
    }
  }

  private async prepareVolumesOnce(): Promise<void> {
    const dir = join(this.podDir(), 'volumes');
    await mkdir(dir, { recursive: true });
    this.volumes = await prepareVolumes(this.pod, dir, { lookup: this.ctx.lookup(this.ns), node: this.ctx.node, signingKey: this.ctx.signingKey, journal: this.ctx.journal });
    this.progress.message = undefined;
  }

  private commands(): CommandContext {
    return { ...commandContext(this.ctx.cfg.repoRoot, this.ctx.paths), nodePath: this.ctx.nodePath };
  }

  private podDir(): string {
    return join(this.ctx.paths.podsDir, this.pod.metadata.uid!);
  }

  private runner(c: Container, kind: 'init' | 'sidecar' | 'app', waiting: string): ContainerRunner {
    const log = this.log.child({ container: c.name });
    return new ContainerRunner(c, kind, {
      log,
      journal: this.ctx.journal,
      logPath: containerLogPath(this.ctx.paths, this.ns, this.pod.metadata.name!, c.name),
      podIP: this.ip,
      prepare: (spec) => this.prepare(spec),
      execIn: (pid, launch, env, argv, timeoutMs) => runInContainer(
        enterArgv(pid, launch.cwd, launch.user, mapSkeinDp(argv, this.commands())),
        env, containerLogPath(this.ctx.paths, this.ns, this.pod.metadata.name!, c.name), timeoutMs),
      onChange: () => this.publish(),
      onStarted: (pid, startTime, launch) => {
        this.record.containers[c.name] = { pid, startTime, cwd: launch.cwd, uid: launch.user.uid, gid: launch.user.gid, ...(launch.user.groups ? { groups: [...launch.user.groups] } : {}) };
        void this.writeRecord();
      },
    }, waiting);
  }

  private async prepare(c: Container): Promise<Prepared> {
    const name = this.pod.metadata.name!;
    const base = new Map<string, string>([
      ['PATH', process.env.PATH ?? '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'],
      ['HOSTNAME', this.pod.spec.hostname ?? name],
    ]);
    const user = resolveUser(this.pod.spec.securityContext, c.securityContext);
    base.set('HOME', user.uid === 0 ? '/root' : '/');
    const env = buildEnv(this.podWithStatus(), c, this.ctx.node, this.ctx.lookup(this.ns), base);
    const proc = containerProcess(name, c, env, this.commands());
    if (!existsSync(proc.cwd)) throw new Error(`workingDir ${proc.cwd} does not exist on the host`);
    const mounts: Mount[] = [];
    for (const vm of c.volumeMounts ?? []) {
      const vol = this.volumes.get(vm.name);
      if (!vol) throw new Error(`volumeMount "${vm.name}" names no volume of the pod`);
      let source = vol.hostPath;
      if (vm.subPath) {
        source = join(vol.hostPath, vm.subPath);
        if (!existsSync(source)) await mkdir(source, { recursive: true, mode: 0o777 });
      }
      const isFile = statSync(source).isFile();
      ensureMountTarget(vm.mountPath, isFile, this.ctx.journal);
      mounts.push({ source, target: vm.mountPath, readOnly: vm.readOnly === true, isFile });
    }
    const launch: LaunchSpec = { netns: this.record.netns, hostname: this.pod.spec.hostname ?? name, mounts, cwd: proc.cwd, user, argv: proc.argv };
    return { launch, env };
  }

  private podWithStatus(): Pod {
    return { ...this.pod, status: { ...(this.pod.status ?? { phase: 'Pending' }), podIP: this.ip, hostIP: this.ctx.node.hostIP } };
  }

  private recordWrites: Promise<void> = Promise.resolve();

  /** Serialised: overlapping writes through the same temp file would tear the record. */
  private writeRecord(): Promise<void> {
    const f = runtimeRecordPath(this.ctx.paths, this.ns, this.record.name);
    this.recordWrites = this.recordWrites.then(async () => {
      await mkdir(this.ctx.paths.runtimeDir, { recursive: true });
      await writeFile(`${f}.tmp`, JSON.stringify(this.record, null, 2));
      await rename(`${f}.tmp`, f);
    }).catch((err: Error) => this.log.error({ err: err.message }, 'writing the runtime record failed'));
    return this.recordWrites;
  }

  statusSnapshot(): NonNullable<Pod['status']> {
    const sidecars = new Set(this.init.filter((r) => r.kind === 'sidecar').map((r) => r.spec.name));
    const init: ContainerStatus[] = this.init.map((r) => structuredClone(r.status));
    const apps: ContainerStatus[] = this.apps.map((r) => structuredClone(r.status));
    const now = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
    return {
      phase: podPhase(this.progress),
      ...(this.progress.message ? { message: this.progress.message } : {}),
      podIP: this.ip,
      podIPs: podIPsOf({ ip: this.ip, ip6: this.ip6 }),
      hostIP: this.ctx.node.hostIP,
      startTime: this.startTime,
      conditions: podConditions(this.progress, init, apps, sidecars, now),
      ...(init.length ? { initContainerStatuses: init } : {}),
      containerStatuses: apps,
    };
  }

  private publish(): void {
    this.ctx.onStatus(this.pod, this.statusSnapshot());
  }
}
