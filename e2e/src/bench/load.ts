// The three load phases, each run inside the client pod's network namespace through
// `skein-local exec`, pinned with taskset to the client's core. Each prints one JSON line.
import path from 'node:path';
import { pollUntil } from '../suite/harness/poll.js';
import type { BenchConfig } from './config.js';
import type { BulkResult } from './bulk-client.js';
import type { FixedRateResult } from './fixed-rate.js';
import type { NewConnResult } from './new-conn.js';
import type { SkeinLocal } from './skein-local.js';

export interface MaxThroughputResult {
  connections: number;
  durationS: number;
  rps: number;
  requests: number;
  latencyMs: { p50: number; p99: number; max: number }; // autocannon: whole milliseconds
  errors: number;
  timeouts: number;
  non2xx: number;
  windowEpochMs: [number, number];
}

export interface Target {
  pod: string;
  ns: string;
  httpUrl: string;
  bulkHost: string;
  bulkPort: number;
}

function lastJsonLine<T>(stdout: string, what: string): T {
  const line = stdout.trim().split('\n').filter((l) => l.startsWith('{')).pop();
  if (!line) throw new Error(`${what}: no JSON result in output: ${stdout.slice(-500)}`);
  return JSON.parse(line) as T;
}

export class LoadRunner {
  private readonly node = process.execPath;
  constructor(private readonly sl: SkeinLocal, private readonly config: BenchConfig) {}

  private inClient(t: Target, args: string[], timeoutMs: number): Promise<string> {
    return this.sl.execOk(t.pod, t.ns, ['taskset', '-c', this.config.clientCpu, this.node, ...args], timeoutMs);
  }

  private script(name: string): string {
    return path.join(this.config.repoRoot, 'e2e/dist/bench', name);
  }

  async fixedRate(t: Target): Promise<FixedRateResult> {
    const f = this.config.fixedRate;
    const out = await this.inClient(t, [this.script('fixed-rate.js'), '--url', t.httpUrl, '--rate', String(f.rate),
      '--duration', String(f.durationS), '--warmup', String(f.warmupS), '--connections', String(f.connections)],
    (f.durationS + f.warmupS + 60) * 1000);
    return lastJsonLine<FixedRateResult>(out, 'fixed-rate');
  }

  async maxThroughput(t: Target): Promise<MaxThroughputResult> {
    const m = this.config.maxThroughput;
    const autocannon = path.join(this.config.repoRoot, 'node_modules/autocannon/autocannon.js');
    const out = await this.inClient(t, [autocannon, '-c', String(m.connections), '-d', String(m.durationS), '-j', '-n', t.httpUrl],
      (m.durationS + 60) * 1000);
    const r = lastJsonLine<{
      requests: { average: number; total: number };
      latency: { p50: number; p99: number; max: number };
      errors: number; timeouts: number; non2xx: number; start: string; finish: string;
    }>(out, 'autocannon');
    return {
      connections: m.connections,
      durationS: m.durationS,
      rps: r.requests.average,
      requests: r.requests.total,
      latencyMs: { p50: r.latency.p50, p99: r.latency.p99, max: r.latency.max },
      errors: r.errors,
      timeouts: r.timeouts,
      non2xx: r.non2xx,
      windowEpochMs: [Date.parse(r.start), Date.parse(r.finish)],
    };
  }

  async newConn(t: Target): Promise<NewConnResult> {
    const n = this.config.newConn;
    const out = await this.inClient(t, [this.script('new-conn.js'), t.httpUrl, String(n.durationS), String(n.workers)], (n.durationS + 60) * 1000);
    return lastJsonLine<NewConnResult>(out, 'new connections');
  }

  async bulk(t: Target): Promise<BulkResult> {
    const out = await this.inClient(t, [this.script('bulk-client.js'), t.bulkHost, String(t.bulkPort), String(this.config.bulkBytes),
      String(this.config.bulkCapS)], (this.config.bulkCapS + 90) * 1000);
    return lastJsonLine<BulkResult>(out, 'bulk');
  }

  /** Waits until one request through the whole path succeeds (the path is up end to end). */
  async reachable(t: Target, timeoutMs = 30_000): Promise<void> {
    await pollUntil(async () => {
      const r = await this.sl.exec(t.pod, t.ns, ['curl', '-sS', '--fail', '--max-time', '3', '-o', '/dev/null', t.httpUrl], 20_000);
      if (r.code !== 0) throw new Error((r.stderr || r.stdout).trim());
      return true;
    }, { what: `${t.httpUrl} to be reachable from ${t.ns}/${t.pod}`, timeoutMs, intervalMs: 300 });
  }
}
