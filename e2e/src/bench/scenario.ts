// One scenario from start to clean-up: start the server pod then the client pod (timing each to
// Ready), find and pin their processes, sample idle memory, run the three load phases while
// sampling CPU and peak RSS, then delete the pods and wait until their processes are gone.
import os from 'node:os';
import type { BenchConfig, ScenarioName } from './config.js';
import type { BulkResult } from './bulk-client.js';
import type { FixedRateResult } from './fixed-rate.js';
import { LoadRunner, type MaxThroughputResult, type Target } from './load.js';
import { render } from './manifests.js';
import { pin, podProcs, sample, Sampler, type PodProc, type ProcRole } from './procs.js';
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
  hwmKb: number | null; // kernel's peak RSS over the process's life, read at the end
  cpuCoresAtFixedRate: number | null; // CPU seconds per wall second over the fixed-rate phase's measured window
  cpuCoresAtMax: number | null;
}

export interface ScenarioResult {
  name: ScenarioName;
  ok: boolean;
  error?: string;
  loadavgBefore: number[];
  readyMs?: { server: number; client: number };
  serverIp?: string;
  processes: ProcReport[];
  fixedRate?: FixedRateResult;
  maxThroughput?: MaxThroughputResult;
  bulk?: BulkResult;
  /** Each sidecar's admin /stats after the load (skein scenario): what the proxies saw. */
  sidecarStats?: Record<string, unknown>;
}

const elapsedMs = (t0: bigint): number => Math.round(Number(process.hrtime.bigint() - t0) / 1e5) / 10;
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

const MEASURED: ProcRole[] = ['sidecar', 'haproxy', 'server'];

export async function runScenario(sl: SkeinLocal, config: BenchConfig, spec: ScenarioSpec, runDir: string,
  hooks: { beforeLoad?: (procs: PodProc[]) => Promise<void>; afterLoad?: () => Promise<void> } = {}): Promise<ScenarioResult> {
  const result: ScenarioResult = { name: spec.name, ok: false, loadavgBefore: os.loadavg(), processes: [] };
  const files: string[] = [];
  let procs: PodProc[] = [];
  try {
    const serverFile = await render(config.repoRoot, spec.serverTemplate, runDir, `${spec.name}-server.yaml`,
      { NAMESPACE: spec.ns, ...spec.vars });
    files.push(serverFile);
    let t0 = process.hrtime.bigint();
    await sl.apply(serverFile);
    await sl.waitReady(spec.serverPod, spec.ns, config.readyTimeoutS);
    const serverReady = elapsedMs(t0);
    const serverIp = (await sl.pod(spec.serverPod, spec.ns)).status?.podIP;
    if (!serverIp) throw new Error(`${spec.ns}/${spec.serverPod} is Ready but has no status.podIP`);
    result.serverIp = serverIp;

    const clientFile = await render(config.repoRoot, spec.clientTemplate, runDir, `${spec.name}-client.yaml`,
      { NAMESPACE: spec.ns, SERVER_IP: serverIp, ...spec.vars });
    files.push(clientFile);
    t0 = process.hrtime.bigint();
    await sl.apply(clientFile);
    await sl.waitReady(spec.clientPod, spec.ns, config.readyTimeoutS);
    result.readyMs = { server: serverReady, client: elapsedMs(t0) };

    procs = [...(await podProcs(sl, spec.serverPod, spec.ns)), ...(await podProcs(sl, spec.clientPod, spec.ns))];
    await pin(procs.map((p) => p.pid), config.serverCpu);
    const measured = procs.filter((p) => MEASURED.includes(p.role));
    const reports = new Map<number, ProcReport>(measured.map((p) => [p.pid, {
      ...p, idleRssKb: null, loadPeakRssKb: null, hwmKb: null, cpuCoresAtFixedRate: null, cpuCoresAtMax: null,
    }]));
    result.processes = [...reports.values()];
    await sleep(1000); // let start-up work (discovery, certificates) settle before "idle"
    for (const r of reports.values()) r.idleRssKb = (await sample(r.pid))?.rssKb ?? null;

    const target: Target = { pod: spec.clientPod, ns: spec.ns, ...spec.target(serverIp) };
    const load = new LoadRunner(sl, config);
    await load.reachable(target);
    if (hooks.beforeLoad) await hooks.beforeLoad(procs);

    const sampler = new Sampler(measured.map((p) => p.pid));
    try {
      result.fixedRate = await load.fixedRate(target);
      result.maxThroughput = await load.maxThroughput(target);
      result.bulk = await load.bulk(target);
    } finally {
      if (hooks.afterLoad) await hooks.afterLoad();
      await sampler.stop();
      for (const r of reports.values()) {
        r.loadPeakRssKb = sampler.peakRssKb(r.pid);
        r.hwmKb = (await sample(r.pid))?.hwmKb ?? null;
        if (result.fixedRate) r.cpuCoresAtFixedRate = sampler.cores(r.pid, ...result.fixedRate.windowEpochMs);
        if (result.maxThroughput) r.cpuCoresAtMax = sampler.cores(r.pid, ...result.maxThroughput.windowEpochMs);
      }
    }
    const sidecarPods = [...new Set(measured.filter((p) => p.role === 'sidecar').map((p) => p.pod))];
    if (sidecarPods.length) {
      result.sidecarStats = {};
      for (const pod of sidecarPods) {
        const r = await sl.admin(pod, spec.ns, '/stats');
        try {
          result.sidecarStats[pod] = JSON.parse(r.stdout) as unknown;
        } catch {
          result.sidecarStats[pod] = r.code === 0 ? r.stdout : `admin /stats failed (${r.code}): ${r.stderr.trim()}`;
        }
      }
    }
    result.ok = true;
  } catch (err) {
    result.error = err instanceof Error ? err.message : String(err);
  } finally {
    for (const f of files.reverse()) await sl.delete(f);
    await waitGone(procs.map((p) => p.pid), 45_000);
  }
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
