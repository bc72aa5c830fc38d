// Turns scenario results into comparisons (added latency and ratios against `direct` and
// `haproxy`) and a readable table.
import type { ScenarioName } from './config.js';
import type { ProfileSummary } from './profile.js';
import type { ProcReport, ScenarioResult } from './scenario.js';


export interface Headline {
  readyServerMs: number | null;
  readyClientMs: number | null;
  p50Ms: number | null;
  p99Ms: number | null;
  serviceP50Ms: number | null;
  serviceP99Ms: number | null;
  generatorLagP99Ms: number | null; // the client's own scheduling lag (its core was busy)
  unfinished: number | null; // fixed-rate requests written off at the deadline (> 0: rate not sustained)
  maxRps: number | null;
  maxP99Ms: number | null;
  bulkMBps: number | null;
  newConnPerSec: number | null; // connection per request: connect + the proxies' handshakes + one GET
  newConnP50Ms: number | null;
  connectionReuseShare: number | null; // skein: share of requests on an existing mTLS connection (max phase)
  proxyIdleRssMB: number | null; // mean over the scenario's proxies (client side and server side)
  proxyLoadRssMB: number | null; // mean of their peaks under load
  proxyIdleAnonMB: number | null; // the same for RssAnon: private memory, without the node binary's shared text
  proxyLoadAnonMB: number | null;
  proxyCpuAtFixedRate: number | null; // cores, both proxies together
  proxyCpuMsPerReq: number | null; // CPU ms per request, both proxies, at the rate the fixed-rate phase achieved
  clientProxyCpuMsPerReq: number | null; // the same for the proxy in the client pod alone
  serverProxyCpuMsPerReq: number | null; // and for the one in the server pod
  sidecarGcSharePct: number | null; // % of wall time in GC during the fixed-rate phase, mean of the sidecars
  sidecarEventLoopP99Ms: number | null; // event-loop delay p99 during the fixed-rate phase, worst sidecar (lateness of prom-client's 10 ms timer)
  serverCpuAtFixedRate: number | null;
}

export interface Comparison {
  addedP50Ms: number | null;
  addedP99Ms: number | null;
  ratios: Partial<Record<keyof Headline, number | null>>;
}

const r3 = (v: number): number => Math.round(v * 1000) / 1000;
const mean = (xs: number[]): number | null => (xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : null);
const proxies = (s: ScenarioResult): ProcReport[] => s.processes.filter((p) => p.role === 'sidecar' || p.role === 'haproxy');

export function headline(s: ScenarioResult): Headline {
  const px = proxies(s);
  const mb = (kb: (number | null)[]): number | null => {
    const m = mean(kb.filter((v): v is number => v !== null));
    return m === null ? null : Math.round(m / 102.4) / 10;
  };
  const cpu = (ps: ProcReport[]): number | null => {
    const xs = ps.map((p) => p.cpuCoresAtFixedRate).filter((v): v is number => v !== null);
    return xs.length ? r3(xs.reduce((a, b) => a + b, 0)) : null;
  };
  const msPerReq = (ps: ProcReport[]): number | null => {
    const c = cpu(ps);
    const rps = s.fixedRate?.achievedRps;
    return c !== null && rps ? r3((c * 1000) / rps) : null;
  };
  const runtime = Object.values(s.sidecarRuntime ?? {});
  const gc = runtime.map((r) => r.gcSharePct).filter((v): v is number => v !== null);
  const eld = runtime.map((r) => r.eventLoopP99Ms).filter((v): v is number => v !== null);
  return {
    readyServerMs: s.readyMs?.server ?? null,
    readyClientMs: s.readyMs?.client ?? null,
    p50Ms: s.fixedRate?.latencyMs.p50 ?? null,
    p99Ms: s.fixedRate?.latencyMs.p99 ?? null,
    serviceP50Ms: s.fixedRate?.serviceMs.p50 ?? null,
    serviceP99Ms: s.fixedRate?.serviceMs.p99 ?? null,
    unfinished: s.fixedRate?.unfinished ?? null,
    generatorLagP99Ms: s.fixedRate?.generatorLagMs?.p99 ?? null,
    maxRps: s.maxThroughput ? Math.round(s.maxThroughput.rps) : null,
    maxP99Ms: s.maxThroughput?.latencyMs.p99 ?? null,
    bulkMBps: s.bulk?.mbPerSec ?? null,
    newConnPerSec: s.newConn?.connsPerSec ?? null,
    newConnP50Ms: s.newConn ? r3(s.newConn.latencyMs.p50) : null,
    connectionReuseShare: s.connectionReuse?.share ?? null,
    proxyIdleRssMB: mb(px.map((p) => p.idleRssKb)),
    proxyLoadRssMB: mb(px.map((p) => p.loadPeakRssKb)),
    proxyIdleAnonMB: mb(px.map((p) => p.idleAnonKb ?? null)),
    proxyLoadAnonMB: mb(px.map((p) => p.loadPeakAnonKb ?? null)),
    proxyCpuAtFixedRate: cpu(px),
    proxyCpuMsPerReq: msPerReq(px),
    clientProxyCpuMsPerReq: msPerReq(px.filter((p) => p.pod === s.pods?.client)),
    serverProxyCpuMsPerReq: msPerReq(px.filter((p) => p.pod === s.pods?.server)),
    sidecarGcSharePct: gc.length ? r3(mean(gc) as number) : null,
    sidecarEventLoopP99Ms: eld.length ? Math.max(...eld) : null,
    serverCpuAtFixedRate: cpu(s.processes.filter((p) => p.role === 'server')),
  };
}

export function compare(a: Headline, base: Headline): Comparison {
  const ratios: Comparison['ratios'] = {};
  for (const k of Object.keys(a) as (keyof Headline)[]) {
    const x = a[k];
    const y = base[k];
    ratios[k] = x !== null && y !== null && y !== 0 ? Math.round((x / y) * 100) / 100 : null;
  }
  const diff = (x: number | null, y: number | null): number | null => (x !== null && y !== null ? r3(x - y) : null);
  return { addedP50Ms: diff(a.p50Ms, base.p50Ms), addedP99Ms: diff(a.p99Ms, base.p99Ms), ratios };
}

export type Comparisons = Partial<Record<ScenarioName, { vsDirect?: Comparison; vsHaproxy?: Comparison }>>;

export function comparisons(heads: Partial<Record<ScenarioName, Headline>>): Comparisons {
  const out: Comparisons = {};
  for (const name of ['skein', 'haproxy'] as ScenarioName[]) {
    const h = heads[name];
    if (!h) continue;
    out[name] = {};
    if (heads.direct) (out[name] as { vsDirect?: Comparison }).vsDirect = compare(h, heads.direct);
    if (name === 'skein' && heads.haproxy) (out[name] as { vsHaproxy?: Comparison }).vsHaproxy = compare(h, heads.haproxy);
  }
  return out;
}

const ROWS: [keyof Headline, string][] = [
  ['p50Ms', '1k rps p50 ms (from intended send)'],
  ['p99Ms', '1k rps p99 ms (from intended send)'],
  ['serviceP50Ms', '1k rps p50 ms (from actual write)'],
  ['serviceP99Ms', '1k rps p99 ms (from actual write)'],
  ['unfinished', '1k rps: unanswered at deadline (0 = rate held)'],
  ['generatorLagP99Ms', '1k rps: generator\'s own lag p99 ms'],
  ['maxRps', 'max req/s, 64 connections'],
  ['maxP99Ms', 'max-load p99 ms (autocannon, whole ms)'],
  ['bulkMBps', 'bulk TCP MB/s, 1 connection'],
  ['newConnPerSec', 'new connections/s (connect + handshakes + 1 GET), 8 workers'],
  ['newConnP50Ms', '  new connection + request p50 ms'],
  ['connectionReuseShare', 'requests on a reused mTLS connection (skein, max phase)'],
  ['proxyIdleRssMB', 'proxy RSS idle MB (mean per proxy)'],
  ['proxyLoadRssMB', 'proxy RSS under load MB (peak, mean)'],
  ['proxyIdleAnonMB', '  private (RssAnon) idle MB'],
  ['proxyLoadAnonMB', '  private (RssAnon) under load MB'],
  ['proxyCpuAtFixedRate', 'proxy CPU at 1k rps, cores (both)'],
  ['proxyCpuMsPerReq', 'proxy CPU ms per request (both)'],
  ['clientProxyCpuMsPerReq', '  client-side proxy CPU ms per request'],
  ['serverProxyCpuMsPerReq', '  server-side proxy CPU ms per request'],
  ['sidecarGcSharePct', 'sidecar GC % of wall time at 1k rps (mean)'],
  ['sidecarEventLoopP99Ms', 'sidecar event-loop delay p99 ms at 1k rps (worst; beyond the 10 ms timer)'],
  ['serverCpuAtFixedRate', 'server app CPU at 1k rps, cores'],
  ['readyServerMs', 'apply -> Ready, server pod ms'],
  ['readyClientMs', 'apply -> Ready, client pod ms'],
];

function fmt(v: number | null | undefined): string {
  if (v === null || v === undefined || Number.isNaN(v)) return '-';
  if (Math.abs(v) >= 100) return String(Math.round(v));
  return String(Math.round(v * 1000) / 1000);
}

export function table(heads: Partial<Record<ScenarioName, Headline>>, cmp: Comparisons): string {
  const cols = ['metric', 'direct', 'skein', 'haproxy', 'skein/direct', 'skein/haproxy', 'haproxy/direct'];
  const rows: string[][] = [cols];
  for (const [k, label] of ROWS) {
    rows.push([
      label,
      fmt(heads.direct?.[k]), fmt(heads.skein?.[k]), fmt(heads.haproxy?.[k]),
      fmt(cmp.skein?.vsDirect?.ratios[k]), fmt(cmp.skein?.vsHaproxy?.ratios[k]), fmt(cmp.haproxy?.vsDirect?.ratios[k]),
    ]);
  }
  rows.push(['added p50 / p99 ms over direct', '', cmp.skein?.vsDirect ? `${fmt(cmp.skein.vsDirect.addedP50Ms)} / ${fmt(cmp.skein.vsDirect.addedP99Ms)}` : '-',
    cmp.haproxy?.vsDirect ? `${fmt(cmp.haproxy.vsDirect.addedP50Ms)} / ${fmt(cmp.haproxy.vsDirect.addedP99Ms)}` : '-', '', '', '']);
  const widths = cols.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length)));
  const line = (r: string[]): string => r.map((c, i) => (i === 0 ? c.padEnd(widths[i] as number) : c.padStart(widths[i] as number))).join('  ');
  return [line(rows[0] as string[]), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.slice(1).map(line)].join('\n');
}

export function profileTable(p: ProfileSummary): string {
  const lines = [`sidecar CPU profile: ${p.files} file(s), busy ${p.busyMs} ms of ${p.totalMs} ms sampled (idle ${p.idleMs} ms)`,
    '  self ms   % busy  function  (script:line)'];
  for (const e of p.top) {
    lines.push(`  ${String(e.selfMs).padStart(7)}  ${String(e.pctOfBusy).padStart(6)}  ${e.function}  ${e.url ? `(${e.url})` : ''}${e.via ? `(native, called from ${e.via})` : ''}`);
  }
  lines.push('  by area:');
  for (const a of p.byArea) lines.push(`  ${String(a.selfMs).padStart(7)}  ${String(a.pctOfBusy).padStart(6)}  ${a.area}`);
  return lines.join('\n');
}

export interface RunSummary {
  date: string;
  commit: string;
  dirtyFiles: number;
  cpus: number;
  cpuModel: string;
  loadavgAtStart: number[];
  haproxyTls: boolean;
  cliRoundTripMs: number | undefined;
  heads: Partial<Record<ScenarioName, Headline>>;
  cmp: Comparisons;
  results: ScenarioResult[];
  profile: ProfileSummary | undefined;
  notes: string[];
}

/** The human-readable report: printed at the end and written to bench-results/bench.txt. */
export function renderRun(r: RunSummary): string {
  const lines = [
    `Skein benchmark ${r.date} (commit ${r.commit.slice(0, 10)}${r.dirtyFiles ? `, ${r.dirtyFiles} uncommitted files` : ''}), ${r.cpus} x ${r.cpuModel}`,
    `load average at start ${r.loadavgAtStart.map((l) => l.toFixed(2)).join(' ')} (> ~0.5 means other work ran: numbers are noisy)`,
    `haproxy: HTTP mode (TCP mode for bulk), ${r.haproxyTls ? 'mutual TLS 1.3' : 'no TLS'} between the two HAProxies, 1 thread each; ` +
      'skein: the sidecars as injected (their /stats are in bench.json)',
    '',
    table(r.heads, r.cmp),
  ];
  if (r.cliRoundTripMs !== undefined) lines.push(`(apply -> Ready includes two skein-local CLI runs of ~${r.cliRoundTripMs} ms each and 250 ms polling)`);
  for (const s of r.results) if (!s.ok) lines.push('', `${s.name}: FAILED: ${s.error}`);
  if (r.profile) lines.push('', profileTable(r.profile));
  for (const n of r.notes) lines.push(`note: ${n}`);
  return lines.join('\n');
}
