// `npm run bench:webhook`: the admission webhook under load, as a real `skein-cp --mode local` process
// (pinned to one CPU with taskset when there is more than one), fed a typical pod AdmissionReview over
// HTTPS keep-alive by autocannon. Two runs: a fixed 200 req/s (the target: p99 <= 5 ms on one core) and
// maximum throughput. Prints a table and writes bench-results/webhook.json. Reports; never asserts.
//
// Flags: --duration S (default 10), --log-level L (default info, what production runs with).
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdtemp, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { request } from 'node:https';
import { get as httpGet } from 'node:http';
import { availableParallelism, cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import autocannon from 'autocannon';
import { typicalPodReview } from './review.js';

const MAIN = fileURLToPath(new URL('../main.js', import.meta.url));
const RESULTS_DIR = fileURLToPath(new URL('../../../bench-results/', import.meta.url));
const TARGET_P99_MS = 5;

interface CpJson { pid: number; webhookPort: number; healthPort: number }

interface RunResult {
  readonly name: string;
  readonly connections: number;
  readonly targetRate: number | null;
  readonly durationS: number;
  readonly requestsPerSecond: number;
  readonly latencyMs: { p50: number; p90: number; p99: number; p99_9: number; max: number; mean: number };
  readonly total2xx: number;
  readonly non2xx: number;
  readonly errors: number;
  readonly timeouts: number;
  /** CPU time of the skein-cp process over the run, as a share of one core. */
  readonly cpCpuCores: number;
  /** Server-side time (skein_admission_duration_seconds): upper bounds of the histogram buckets. */
  readonly serverMs: { p50: number; p99: number };
}

type Buckets = Map<number, number>; // le (seconds) → cumulative count

function scrapeBuckets(healthPort: number): Promise<Buckets> {
  return new Promise((resolve, reject) => {
    httpGet({ host: '127.0.0.1', port: healthPort, path: '/metrics' }, (res) => {
      let text = '';
      res.on('data', (c: Buffer) => (text += c.toString()));
      res.on('end', () => {
        const out: Buckets = new Map();
        const re = /^skein_admission_duration_seconds_bucket\{[^}]*le="([^"]+)"[^}]*\} (\d+)/gm;
        for (const m of text.matchAll(re)) {
          const le = m[1] === '+Inf' ? Infinity : Number(m[1]);
          out.set(le, (out.get(le) ?? 0) + Number(m[2]));
        }
        resolve(out);
      });
    }).on('error', reject);
  });
}

/** Quantile of the requests between two scrapes, as the upper bound of its bucket, in ms. */
function bucketQuantile(before: Buckets, after: Buckets, q: number): number {
  const les = [...after.keys()].sort((a, b) => a - b);
  const total = (after.get(Infinity) ?? 0) - (before.get(Infinity) ?? 0);
  for (const le of les) {
    if ((after.get(le) ?? 0) - (before.get(le) ?? 0) >= q * total) return le * 1000;
  }
  return Infinity;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

function cpuSeconds(pid: number): number {
  // /proc/<pid>/stat fields 14 and 15: utime and stime in clock ticks (100 Hz on Linux).
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

async function startCp(stateDir: string, logLevel: string): Promise<{ child: ChildProcess; cp: CpJson; ca: string; pinned: string }> {
  const args = [MAIN, '--mode', 'local', '--state-dir', stateDir, '--webhook-port', '0', '--health-port', '0', '--grpc-port', '0', '--log-level', logLevel];
  const canPin = availableParallelism() > 1 && spawnSync('taskset', ['--version']).status === 0;
  // skein-cp gets CPU 0 to itself (as far as this benchmark goes); the load generator moves to the others.
  if (canPin) spawnSync('taskset', ['-a', '-p', '-c', `1-${availableParallelism() - 1}`, String(process.pid)], { stdio: 'ignore' });
  const child = canPin
    ? spawn('taskset', ['-c', '0', process.execPath, ...args], { stdio: ['ignore', 'ignore', 'inherit'] })
    : spawn(process.execPath, args, { stdio: ['ignore', 'ignore', 'inherit'] });
  const deadline = Date.now() + 30_000;
  for (;;) {
    try {
      const cp = JSON.parse(await readFile(join(stateDir, 'cp.json'), 'utf8')) as CpJson;
      return { child, cp, ca: await readFile(join(stateDir, 'webhook-ca.pem'), 'utf8'), pinned: canPin ? 'cpu 0 (taskset)' : 'not pinned' };
    } catch { /* not yet */ }
    if (child.exitCode !== null || Date.now() > deadline) throw new Error('skein-cp did not start (no cp.json)');
    await sleep(50);
  }
}

/** One request with full certificate verification, to check the answer before measuring it. */
function verifyOnce(port: number, ca: string, body: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', servername: 'localhost', port, method: 'POST', path: '/inject', ca, headers: { 'content-type': 'application/json' } }, (res) => {
      let text = '';
      res.on('data', (c: Buffer) => (text += c.toString()));
      res.on('end', () => {
        const review = JSON.parse(text) as { response?: { allowed?: boolean; patch?: string } };
        if (res.statusCode !== 200 || review.response?.allowed !== true || !review.response.patch) {
          reject(new Error(`unexpected admission answer ${res.statusCode ?? 0}: ${text.slice(0, 300)}`));
        } else resolve();
      });
    });
    req.on('error', reject);
    req.end(body);
  });
}

async function runLoad(name: string, cp: CpJson, body: string, connections: number, durationS: number, rate?: number): Promise<RunResult> {
  const { webhookPort: port, pid } = cp;
  const bucketsBefore = await scrapeBuckets(cp.healthPort);
  const cpuBefore = cpuSeconds(pid);
  const r = await autocannon({
    url: `https://127.0.0.1:${port}/inject`,
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body,
    connections,
    duration: durationS,
    servername: 'localhost',
    timeout: 10,
    ...(rate !== undefined ? { overallRate: rate } : {}),
  });
  const cpCpuCores = (cpuSeconds(pid) - cpuBefore) / r.duration;
  const bucketsAfter = await scrapeBuckets(cp.healthPort);
  return {
    name,
    connections,
    targetRate: rate ?? null,
    durationS: r.duration,
    requestsPerSecond: r.requests.average,
    latencyMs: { p50: r.latency.p50, p90: r.latency.p90, p99: r.latency.p99, p99_9: r.latency.p99_9, max: r.latency.max, mean: r.latency.mean },
    total2xx: r['2xx'],
    non2xx: r.non2xx,
    errors: r.errors,
    timeouts: r.timeouts,
    cpCpuCores: Math.round(cpCpuCores * 100) / 100,
    serverMs: { p50: bucketQuantile(bucketsBefore, bucketsAfter, 0.5), p99: bucketQuantile(bucketsBefore, bucketsAfter, 0.99) },
  };
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { duration: { type: 'string', default: '10' }, 'log-level': { type: 'string', default: 'info' } } });
  const durationS = Number(values.duration);
  const logLevel = values['log-level'] ?? 'info';
  const stateDir = await mkdtemp(join(tmpdir(), 'skein-bench-'));
  const body = JSON.stringify(typicalPodReview('bench-0000'));
  const { child, cp, ca, pinned } = await startCp(stateDir, logLevel);
  try {
    await verifyOnce(cp.webhookPort, ca, body);
    await runLoad('warm-up', cp, body, 4, 3, 200); // JIT, TLS sessions
    const fixed = await runLoad('fixed 200 req/s', cp, body, 4, durationS, 200);
    const max = await runLoad('max throughput', cp, body, 16, durationS);
    const runs = [fixed, max];
    const report = {
      benchmark: 'webhook admission (POST /inject, typical pod, HTTPS keep-alive)',
      date: new Date().toISOString(),
      node: process.version,
      cpu: cpus()[0]?.model ?? 'unknown',
      skeinCp: { pinned, logLevel },
      loadAverage: loadavg(),
      note: 'client latency includes the load generator and any other load on this host; serverMs is the time inside skein-cp (histogram bucket bounds)',
      requestBytes: Buffer.byteLength(body),
      target: { rate: 200, p99Ms: TARGET_P99_MS, met: fixed.latencyMs.p99 <= TARGET_P99_MS && fixed.non2xx === 0 && fixed.errors === 0 },
      runs,
    };
    console.table(runs.map((r) => ({
      run: r.name,
      conns: r.connections,
      'req/s': Math.round(r.requestsPerSecond),
      'p50 ms': r.latencyMs.p50,
      'p99 ms': r.latencyMs.p99,
      'max ms': r.latencyMs.max,
      'server p50 ≤ ms': r.serverMs.p50,
      'server p99 ≤ ms': r.serverMs.p99,
      'cp cpu (cores)': r.cpCpuCores,
      'non-2xx': r.non2xx,
      errors: r.errors + r.timeouts,
    })));
    console.log(`target p99 <= ${TARGET_P99_MS} ms at 200 req/s on one core: ${report.target.met ? 'met' : 'NOT met'} (p99 ${fixed.latencyMs.p99} ms)`);
    await mkdir(RESULTS_DIR, { recursive: true });
    await writeFile(join(RESULTS_DIR, 'webhook.json'), `${JSON.stringify(report, null, 2)}\n`);
    console.log(JSON.stringify(report));
    console.log(`wrote ${join(RESULTS_DIR, 'webhook.json')}`);
  } finally {
    child.kill('SIGTERM');
    await new Promise((r) => child.once('exit', r));
    await rm(stateDir, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  console.error('bench:webhook failed:', err);
  process.exit(1);
});
