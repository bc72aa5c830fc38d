// One skein-local instance for one e2e test file, driven only through its command line
// (docs/contracts.md), as a user would. Each instance gets its own state dir, bridge and
// address ranges derived from the test process id, so files and other helpers' instances
// never collide; `destroy()` runs `down` and removes the work dir even after a failure.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { toYaml, type K8sObject } from './manifests.js';
import { CLI, REPO_ROOT } from './paths.js';
import { pollUntil } from './poll.js';
import { describeRun, run, type RunResult } from './run.js';
import { parseStats, type Counters } from './stats.js';

export interface PodJson {
  metadata: { name: string; namespace: string; uid?: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  spec: { containers: { name: string }[]; initContainers?: { name: string }[] };
  status?: { podIP?: string; phase?: string; containerStatuses?: { name: string; ready?: boolean; restartCount?: number }[] };
}

export interface ExecOptions {
  readonly container?: string;
  readonly input?: string | Buffer;
  readonly timeoutMs?: number;
}

export const SIDECAR = 'skein-proxy';

/**
 * Where an instance's bridge and ranges come from: `<bridgePrefix><N>`, `<podNet>.<n>.0/24`,
 * `<serviceNet>.<n>.0/24`, and IPv6 `<podNet6>:<n hex>::/64`, `<serviceNet6>:<n hex>::/108`.
 */
export interface SlotFamily {
  readonly bridgePrefix: string;
  /** First two octets of the pod ranges, e.g. `10.252`. */
  readonly podNet: string;
  readonly serviceNet: string;
  /** First three groups of the IPv6 ranges; default `fd00:<podNet with ':'>` (`fd00:10:252`). */
  readonly podNet6?: string;
  readonly serviceNet6?: string;
}

export interface Slot { bridge: string; podCidr: string; serviceCidr: string; podCidr6: string; serviceCidr6: string }

/** The suite files' family (docs/demo.md); skein-local's own test uses another, so the two never meet. */
export const SUITE_SLOTS: SlotFamily = { bridgePrefix: 'skle', podNet: '10.252', serviceNet: '10.253' };

/**
 * Bridge `<prefix><pid%1000>` and ranges `<net>.<n>.0/24` from the pid; when an instance that was
 * never torn down (a killed run) still holds the bridge or either range, the next free pair is
 * taken instead, so a leftover never breaks the next run.
 */
export function freeSlot(family: SlotFamily, pid: number = process.pid): Slot {
  const routes = spawnSync('ip', ['-4', 'route', 'show', 'table', 'all'], { encoding: 'utf8' }).stdout ?? '';
  const routes6 = spawnSync('ip', ['-6', 'route', 'show', 'table', 'all'], { encoding: 'utf8' }).stdout ?? '';
  const [podNet6, serviceNet6] = [family.podNet6 ?? `fd00:${family.podNet.replace('.', ':')}`, family.serviceNet6 ?? `fd00:${family.serviceNet.replace('.', ':')}`];
  for (let k = 0; k < 1000; k++) {
    const bridge = `${family.bridgePrefix}${(pid + k) % 1000}`;
    const n = ((pid + k) % 250) + 1;
    const [podCidr, serviceCidr] = [`${family.podNet}.${n}.0/24`, `${family.serviceNet}.${n}.0/24`];
    const linkTaken = spawnSync('ip', ['link', 'show', bridge], { stdio: 'ignore' }).status === 0;
    const [pod6, svc6] = [`${podNet6}:${n.toString(16)}::`, `${serviceNet6}:${n.toString(16)}::`];
    const rangeTaken = routes.includes(`${family.podNet}.${n}.`) || routes.includes(`${family.serviceNet}.${n}.`) ||
      routes6.includes(pod6) || routes6.includes(svc6);
    if (!linkTaken && !rangeTaken) return { bridge, podCidr, serviceCidr, podCidr6: `${pod6}/64`, serviceCidr6: `${svc6}/108` };
  }
  throw new Error(`no free ${family.bridgePrefix}<N> bridge / ${family.podNet}.<n>.0/24 range: run \`skein-local down\` for stale instances`);
}

export class LocalMesh {
  readonly workDir: string;
  readonly stateDir: string;
  /** Scratch space for files the pods read or write (the pods see the host's filesystem). */
  readonly filesDir: string;
  readonly bridge: string;
  /** The IPv4 ranges; the instance is dual stack with podCidr6/serviceCidr6 too. */
  readonly podCidr: string;
  readonly serviceCidr: string;
  readonly podCidr6: string;
  readonly serviceCidr6: string;
  private applied = 0;
  /** The checkout whose skein-local runs (its committed bin): this one unless a test copies it elsewhere. */
  readonly repoRoot: string;
  private readonly cliPath: string;

  /**
   * `repoRoot`: another checkout whose skein-local to run. `workRoot`: where the work dir (state dir
   * and files) goes instead of the temp dir, e.g. /run like the default state dir /run/skein-local.
   */
  constructor(tag: string, family: SlotFamily = SUITE_SLOTS, opts: { repoRoot?: string; workRoot?: string } = {}) {
    this.repoRoot = opts.repoRoot ?? REPO_ROOT;
    this.cliPath = opts.repoRoot ? join(opts.repoRoot, 'e2e', 'bin', 'skein-local.js') : CLI;
    const pid = process.pid;
    const slot = freeSlot(family, pid);
    this.workDir = join(opts.workRoot ?? tmpdir(), `skein-e2e-${tag}-${pid}`);
    this.stateDir = join(this.workDir, 'state');
    this.filesDir = join(this.workDir, 'files');
    this.bridge = slot.bridge;
    this.podCidr = slot.podCidr;
    this.serviceCidr = slot.serviceCidr;
    this.podCidr6 = slot.podCidr6;
    this.serviceCidr6 = slot.serviceCidr6;
    mkdirSync(this.filesDir, { recursive: true });
  }

  private get env(): NodeJS.ProcessEnv {
    return {
      ...process.env,
      SKEIN_LOCAL_STATE_DIR: this.stateDir,
      SKEIN_LOCAL_BRIDGE: this.bridge,
      SKEIN_LOCAL_POD_CIDR: `${this.podCidr},${this.podCidr6}`,
      SKEIN_LOCAL_SERVICE_CIDR: `${this.serviceCidr},${this.serviceCidr6}`,
    };
  }

  /** Runs `skein-local ARGS…`; resolves with the result whatever the exit code. */
  cli(args: readonly string[], opts: { input?: string | Buffer; timeoutMs?: number } = {}): Promise<RunResult> {
    return run(process.execPath, [this.cliPath, ...args], { env: this.env, cwd: this.repoRoot, ...opts });
  }

  /** Runs `skein-local ARGS…` and returns stdout; throws with the output when it fails. */
  async cliOk(args: readonly string[], opts: { input?: string | Buffer; timeoutMs?: number } = {}): Promise<string> {
    const r = await this.cli(args, opts);
    if (r.code !== 0) throw new Error(describeRun(`skein-local ${args.join(' ')}`, r));
    return r.stdout;
  }

  async up(): Promise<void> {
    // A state dir of this name can only be left by an earlier process with the same pid that was
    // killed before its after(): sweep it first, so `up` starts clean.
    if (existsSync(this.stateDir)) await this.cli(['down'], { timeoutMs: 120_000 });
    await this.cliOk(['up'], { timeoutMs: 120_000 });
  }

  /**
   * Synchronous `down` + removal for signal handlers (the test runner's SIGTERM on timeout, ^C),
   * where after() hooks never run and async work may be cut short.
   */
  destroySync(): void {
    spawnSync(process.execPath, [this.cliPath, 'down'], { env: this.env, cwd: this.repoRoot, stdio: 'ignore', timeout: 60_000 });
    rmSync(this.workDir, { recursive: true, force: true });
  }

  /** `down`, then remove the work dir. Never throws: it runs in after() hooks. */
  async destroy(): Promise<string> {
    let report = '';
    try {
      const r = await this.cli(['down'], { timeoutMs: 120_000 });
      if (r.code !== 0) report = describeRun('skein-local down', r);
    } catch (err) {
      report = `skein-local down: ${(err as Error).message}`;
    }
    rmSync(this.workDir, { recursive: true, force: true });
    return report;
  }

  /** Writes the objects to a YAML file and applies it. */
  async apply(objects: readonly K8sObject[]): Promise<void> {
    const file = join(this.workDir, `apply-${++this.applied}.yaml`);
    writeFileSync(file, toYaml(objects));
    await this.cliOk(['apply', '-f', file], { timeoutMs: 60_000 });
  }

  async pod(ns: string, name: string): Promise<PodJson> {
    return JSON.parse(await this.cliOk(['get', 'pods', name, '-n', ns, '-o', 'json'])) as PodJson;
  }

  async pods(ns: string): Promise<PodJson[]> {
    const list = JSON.parse(await this.cliOk(['get', 'pods', '-n', ns, '-o', 'json'])) as { items?: PodJson[] };
    return list.items ?? [];
  }

  async podIP(ns: string, name: string): Promise<string> {
    return pollUntil(async () => (await this.pod(ns, name)).status?.podIP || undefined, {
      what: `pod ${ns}/${name} to have an IP`, timeoutMs: 30_000,
    });
  }

  async waitReady(ns: string, name: string, timeoutMs = 120_000): Promise<void> {
    const secs = Math.ceil(timeoutMs / 1000);
    await this.cliOk(['wait', 'pod', name, '-n', ns, '--for', 'ready', '--timeout', `${secs}s`], { timeoutMs: timeoutMs + 10_000 });
  }

  exec(ns: string, podName: string, cmd: readonly string[], opts: ExecOptions = {}): Promise<RunResult> {
    // As kubectl: stdin reaches the command only with -i.
    const args = ['exec', podName, '-n', ns, ...(opts.container ? ['-c', opts.container] : []), ...(opts.input !== undefined ? ['-i'] : []), '--', ...cmd];
    return this.cli(args, { input: opts.input, timeoutMs: opts.timeoutMs ?? 60_000 });
  }

  /** exec that must exit 0; returns stdout. */
  async execOk(ns: string, podName: string, cmd: readonly string[], opts: ExecOptions = {}): Promise<string> {
    const r = await this.exec(ns, podName, cmd, opts);
    if (r.code !== 0) throw new Error(describeRun(`exec ${ns}/${podName} -- ${cmd.join(' ')}`, r));
    return r.stdout;
  }

  /** `bash -c SCRIPT` in the pod's default container (its user, volumes, env); must exit 0. */
  shOk(ns: string, podName: string, script: string, opts: ExecOptions = {}): Promise<string> {
    return this.execOk(ns, podName, ['bash', '-c', script], opts);
  }

  async admin(ns: string, podName: string, path: string): Promise<string> {
    return this.cliOk(['admin', podName, path, '-n', ns], { timeoutMs: 20_000 });
  }

  async stats(ns: string, podName: string): Promise<Counters> {
    return parseStats(await this.admin(ns, podName, '/stats'));
  }

  async logs(ns: string, podName: string, container?: string): Promise<string> {
    const r = await this.cli(['logs', podName, '-n', ns, ...(container ? ['-c', container] : [])], { timeoutMs: 20_000 });
    return r.code === 0 ? r.stdout : describeRun('logs', r);
  }

  /**
   * What CONVENTIONS §13 asks for when a test fails: every pod as JSON, each sidecar's /stats
   * and the logs of every container, for the given namespaces. Never throws.
   */
  async dump(namespaces: readonly string[]): Promise<string> {
    const parts: string[] = [];
    const grab = async (title: string, f: () => Promise<string>): Promise<void> => {
      try {
        parts.push(`===== ${title}\n${await f()}`);
      } catch (err) {
        parts.push(`===== ${title}\n(failed: ${(err as Error).message})`);
      }
    };
    // The node's own logs (docs/skein-local.md): they explain a daemon or control plane that died.
    for (const file of ['daemon.log', 'cp.log']) {
      await grab(`${file} (last 8 KiB)`, async () => readFileSync(join(this.stateDir, file), 'utf8').slice(-8192));
    }
    for (const ns of namespaces) {
      await grab(`get pods -n ${ns} -o json`, async () => (await this.cli(['get', 'pods', '-n', ns, '-o', 'json'])).stdout);
      let pods: PodJson[] = [];
      try { pods = await this.pods(ns); } catch { /* already reported above */ }
      for (const p of pods) {
        const name = p.metadata.name;
        const containers = [...(p.spec.initContainers ?? []), ...p.spec.containers].map((c) => c.name);
        if (containers.includes(SIDECAR)) await grab(`admin ${ns}/${name} /stats`, () => this.admin(ns, name, '/stats'));
        for (const c of containers) await grab(`logs ${ns}/${name} -c ${c}`, () => this.logs(ns, name, c));
      }
    }
    return parts.join('\n');
  }
}
