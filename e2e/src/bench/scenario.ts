// One scenario from start to clean-up: start the server pod then the client pod (timing each to
// Ready), find and pin their processes, sample idle memory, run the three load phases while
// sampling CPU and peak RSS, then delete the pods and wait until their processes are gone.
import os from 'node:os';
import type { BenchConfig, PhaseName, ScenarioName } from './config.js';
import type { BulkResult } from './bulk-client.js';
import type { FixedRateResult } from './fixed-rate.js';
import { LoadRunner, type MaxThroughputResult, type Target } from './load.js';
import type { NewConnResult } from './new-conn.js';
import { render } from './manifests.js';
import { pin, podProcs, sample, Sampler, type PodProc, type ProcRole } from './procs.js';
import { parseMetrics, runtimeBetween, type MetricsSample, type SidecarRuntime } from './sidecar-metrics.js';
import type { SkeinLocal } from './skein-local.js';

export interface ScenarioSpec {
  name: ScenarioName;
  ns: string;
  serverPod: string;
  clientPod: string;
  serverTemplate: string;
  clientTemplate: string;
  vars: Record<string, string>;
  target(serverIp: string): Omit<Target, 'pod' | 'ns'>;
}

export interface ProcReport extends PodProc {
  idleRssKb: number | null;
  loadPeakRssKb: number | null;
  idleAnonKb?: number | null; // RssAnon (private memory), idle and peak under load
  loadPeakAnonKb?: number | null;
  hwmKb: number | null; // kernel's peak RSS over the process's life, read at the end
  cpuCoresAtFixedRate: number | null; // CPU seconds per wall second over the fixed-rate phase's measured window
  cpuCoresAtMax: number | null;
}

export interface ScenarioResult {
  name: ScenarioName;
  ok: boolean;
  error?: string;
  loadavgBefore: number[];
  pods: { server: string; client: string };
  readyMs?: { server: number; client: number };
  serverIp?: string;
  processes: ProcReport[];
  fixedRate?: FixedRateResult;
  maxThroughput?: MaxThroughputResult;
  newConn?: NewConnResult;
  bulk?: BulkResult;
  /**
   * skein: share of the max-throughput phase's requests that the client sidecar sent on an mTLS
   * connection it already had (1 − new handshakes / requests), from its /metrics before and after.
   */
  connectionReuse?: { requests: number; handshakes: number; resumed: number; share: number | null };
  /** Each sidecar's admin /stats after the load (skein scenario): what the proxies saw. */
  sidecarStats?: Record<string, unknown>;
  /** Each sidecar's GC share and event-loop delay over the fixed-rate phase, from its /metrics (skein scenario). */
  sidecarRuntime?: Record<string, SidecarRuntime>;
}

const elapsedMs = (t0: bigint): number => Math.round(Number(process.hrtime.bigint() - t0) / 1e5) / 10;
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

const MEASURED: ProcRole[] = ['sidecar', 'haproxy', 'server'];

export interface ScenarioHooks {
  beforeLoad?: (procs: PodProc[]) => Promise<void>;
  afterLoad?: () => Promise<void>;
}

/** Applies a rendered pod template and times apply -> Ready. */
async function startPod(sl: SkeinLocal, config: BenchConfig, file: string, pod: string, ns: string): Promise<number> {
  const t0 = process.hrtime.bigint();
  await sl.apply(file);
  await sl.waitReady(pod, ns, config.readyTimeoutS);
  return elapsedMs(t0);
}

/** Runs the selected load phases; a failing phase is recorded and the next one still runs. */
async function runLoad(load: LoadRunner, target: Target, phases: PhaseName[], result: ScenarioResult, errors: string[],
  aroundFixedRate: { before(): Promise<void>; after(): Promise<void> }, aroundMax: { before(): Promise<void>; after(): Promise<void> }): Promise<void> {
  const phase = async <T>(name: string, fn: () => Promise<T>): Promise<T | undefined> => {
    try {
      return await fn();
    } catch (err) {
      errors.push(`${name}: ${err instanceof Error ? err.message : String(err)}`);
      return undefined;
    }
  };
  if (phases.includes('fixed')) {
    await aroundFixedRate.before();
    result.fixedRate = await phase('fixed rate', () => load.fixedRate(target));
    await aroundFixedRate.after();
  }
  if (phases.includes('max')) {
    await aroundMax.before();
    result.maxThroughput = await phase('max throughput', () => load.maxThroughput(target));
    await aroundMax.after();
  }
  if (phases.includes('newconn')) result.newConn = await phase('new connections', () => load.newConn(target));
  if (phases.includes('bulk')) result.bulk = await phase('bulk', () => load.bulk(target));
}

/** One /metrics scrape of a sidecar (admin port, inside the pod); null when it cannot be read. */
async function scrapeSidecar(sl: SkeinLocal, pod: string, ns: string): Promise<MetricsSample | null> {
  const t0 = Date.now();
  const r = await sl.admin(pod, ns, '/metrics');
  if (r.code !== 0) return null;
  // The scrape happened somewhere inside the CLI round trip; its middle is the best estimate.
  return parseMetrics(r.stdout, (t0 + Date.now()) / 2);
}

interface TlsCounts { requests: number; handshakes: number; resumed: number }

/** Outbound HTTP requests and mTLS handshakes (all, resumed) the sidecar counted so far. */
async function tlsCounts(sl: SkeinLocal, pod: string, ns: string): Promise<TlsCounts | null> {
  const r = await sl.admin(pod, ns, '/metrics');
  if (r.code !== 0) return null;
  const out: TlsCounts = { requests: 0, handshakes: 0, resumed: 0 };
  for (const line of r.stdout.split('\n')) {
    const value = Number(line.slice(line.lastIndexOf(' ') + 1));
    if (!Number.isFinite(value)) continue;
    if (line.startsWith('skein_dp_http_requests_total{') && line.includes('direction="outbound"')) out.requests += value;
    else if (line.startsWith('skein_tls_handshakes_total{') && line.includes('direction="outbound"')) {
      out.handshakes += value;
      if (line.includes('resumed="true"')) out.resumed += value;
    }
  }
  return out;
}

async function sidecarStats(sl: SkeinLocal, ns: string, pods: string[]): Promise<Record<string, unknown>> {
  const out: Record<string, unknown> = {};
  for (const pod of pods) {
    const r = await sl.admin(pod, ns, '/stats');
    try {
      out[pod] = JSON.parse(r.stdout) as unknown;
    } catch {
      out[pod] = r.code === 0 ? r.stdout : `admin /stats failed (${r.code}): ${r.stderr.trim()}`;
    }
  }
  return out;
}

export async function runScenario(sl: SkeinLocal, config: BenchConfig, spec: ScenarioSpec, runDir: string,
  hooks: ScenarioHooks = {}): Promise<ScenarioResult> {
  const result: ScenarioResult = {
    name: spec.name, ok: false, loadavgBefore: os.loadavg(), pods: { server: spec.serverPod, client: spec.clientPod }, processes: [],
  };
  const errors: string[] = [];
  const files: string[] = [];
  let procs: PodProc[] = [];
  try {
    const vars = { NAMESPACE: spec.ns, ...spec.vars };
    files.push(await render(config.repoRoot, spec.serverTemplate, runDir, `${spec.name}-server.yaml`, vars));
    const serverReady = await startPod(sl, config, files[0] as string, spec.serverPod, spec.ns);
    const serverIp = (await sl.pod(spec.serverPod, spec.ns)).status?.podIP;
    if (!serverIp) throw new Error(`${spec.ns}/${spec.serverPod} is Ready but has no status.podIP`);
    result.serverIp = serverIp;
    files.push(await render(config.repoRoot, spec.clientTemplate, runDir, `${spec.name}-client.yaml`, { ...vars, SERVER_IP: serverIp }));
    result.readyMs = { server: serverReady, client: await startPod(sl, config, files[1] as string, spec.clientPod, spec.ns) };

    procs = [...(await podProcs(sl, spec.serverPod, spec.ns)), ...(await podProcs(sl, spec.clientPod, spec.ns))];
    await pin(procs.map((p) => p.pid), config.serverCpu);
    const measured = procs.filter((p) => MEASURED.includes(p.role));
    const reports: ProcReport[] = measured.map((p) => ({
      ...p, idleRssKb: null, loadPeakRssKb: null, idleAnonKb: null, loadPeakAnonKb: null, hwmKb: null, cpuCoresAtFixedRate: null, cpuCoresAtMax: null,
    }));
    result.processes = reports;
    await sleep(1000); // let start-up work (discovery, certificates) settle before "idle"
    for (const r of reports) {
      const idle = await sample(r.pid);
      r.idleRssKb = idle?.rssKb ?? null;
      r.idleAnonKb = idle?.anonKb ?? null;
    }

    const target: Target = { pod: spec.clientPod, ns: spec.ns, ...spec.target(serverIp) };
    const load = new LoadRunner(sl, config);
    await load.reachable(target);
    if (hooks.beforeLoad) await hooks.beforeLoad(procs);
    const sampler = new Sampler(measured.map((p) => p.pid));
    const sidecarPods = [...new Set(measured.filter((p) => p.role === 'sidecar').map((p) => p.pod))];
    const before = new Map<string, MetricsSample | null>();
    const aroundFixedRate = {
      before: async () => { for (const pod of sidecarPods) before.set(pod, await scrapeSidecar(sl, pod, spec.ns)); },
      after: async () => {
        for (const pod of sidecarPods) {
          const a = before.get(pod);
          const b = await scrapeSidecar(sl, pod, spec.ns);
          if (a && b) (result.sidecarRuntime ??= {})[pod] = runtimeBetween(a, b);
        }
      },
    };
    const clientSidecar = sidecarPods.find((p) => p === spec.clientPod);
    let countsBefore: TlsCounts | null = null;
    const aroundMax = {
      before: async () => { countsBefore = clientSidecar ? await tlsCounts(sl, clientSidecar, spec.ns) : null; },
      after: async () => {
        const after = clientSidecar ? await tlsCounts(sl, clientSidecar, spec.ns) : null;
        if (!countsBefore || !after) return;
        const requests = after.requests - countsBefore.requests;
        const handshakes = after.handshakes - countsBefore.handshakes;
        result.connectionReuse = {
          requests, handshakes, resumed: after.resumed - countsBefore.resumed,
          share: requests > 0 ? Math.round((1 - handshakes / requests) * 10_000) / 10_000 : null,
        };
      },
    };
    try {
      await runLoad(load, target, config.phases, result, errors, aroundFixedRate, aroundMax);
    } finally {
      if (hooks.afterLoad) await hooks.afterLoad();
      await sampler.stop();
    }
    for (const r of reports) {
      r.loadPeakRssKb = sampler.peakRssKb(r.pid);
      r.loadPeakAnonKb = sampler.peakAnonKb(r.pid);
      r.hwmKb = (await sample(r.pid))?.hwmKb ?? null;
      if (result.fixedRate) r.cpuCoresAtFixedRate = sampler.cores(r.pid, ...result.fixedRate.windowEpochMs);
      if (result.maxThroughput) r.cpuCoresAtMax = sampler.cores(r.pid, ...result.maxThroughput.windowEpochMs);
    }
    if (sidecarPods.length) result.sidecarStats = await sidecarStats(sl, spec.ns, sidecarPods);
  } catch (err) {
    errors.push(err instanceof Error ? err.message : String(err));
  } finally {
    for (const f of [...files].reverse()) await sl.delete(f);
    if (!(await waitGone(procs.map((p) => p.pid), 45_000))) errors.push('pods\' processes still running 45 s after delete');
  }
  result.ok = errors.length === 0;
  if (errors.length) result.error = errors.join('; ');
  return result;
}

/** Waits until none of `pids` exists any more (so the next scenario starts on a quiet machine). */
export async function waitGone(pids: number[], timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const alive = (await Promise.all(pids.map((p) => sample(p)))).filter((s) => s !== null);
    if (alive.length === 0) return true;
    await sleep(200);
  }
  return false;
}
