// The bench's reading of a sidecar's runtime metrics, against a real skein-dp started in-process: its
// admin /metrics really carries the GC histogram and the event-loop delay the bench reports, and a
// blocked event loop between two scrapes shows up in the second one.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Writable } from 'node:stream';
import { createLogControl, fixedResolver, parseRunConfig, startProxy, type RunningProxy } from '@skein/dataplane';
import { parseMetrics, runtimeBetween } from './sidecar-metrics.js';

describe('sidecar runtime metrics (GC share, event-loop delay)', () => {
  let proxy: RunningProxy;
  before(async () => {
    const config = parseRunConfig(['--outbound-port', '0', '--inbound-port', '0', '--admin-port', '0', '--health-port', '0',
      '--bind-address', '127.0.0.1', '--log-level', 'silent'], { POD_IP: '127.0.0.1' });
    const logs = createLogControl('silent', new Writable({ write: (_c, _e, done) => done() }));
    proxy = await startProxy(config, { logs, resolver: fixedResolver({ address: '127.0.0.1', port: 9, family: 4 }) });
  });
  after(() => proxy.shutdown(0));

  const scrape = async (): Promise<string> => {
    const res = await fetch(`http://127.0.0.1:${proxy.addresses.admin.port}/metrics`);
    assert.equal(res.status, 200);
    return res.text();
  };

  it('reads GC time and the event-loop delay of the window between two scrapes', async () => {
    const a = parseMetrics(await scrape(), Date.now());
    // Garbage (young and old generation) and a 60 ms stall of the event loop between the scrapes.
    let keep: unknown[] = [];
    for (let i = 0; i < 200_000; i++) keep.push({ i, s: `x${i}` });
    keep = [];
    // (in a callback of its own: a stall in the same timers phase as the monitor's timer is not seen)
    await new Promise<void>((resolve) => setTimeout(() => {
      const until = Date.now() + 60;
      while (Date.now() < until) { /* a blocked event loop */ }
      resolve();
    }, 20));
    await new Promise((r) => setTimeout(r, 50));
    const b = parseMetrics(await scrape(), Date.now());
    assert.ok(b.gcSeconds > a.gcSeconds, `GC time grew (${a.gcSeconds} -> ${b.gcSeconds} s)`);
    assert.ok((b.eventLoopMaxMs ?? 0) >= 50, `the stall is in the event-loop max: ${b.eventLoopMaxMs} ms`);
    const r = runtimeBetween(a, b);
    assert.ok((r.eventLoopMaxMs ?? 0) >= 40, `reported as ≥ 40 ms late: ${r.eventLoopMaxMs} ms`);
    assert.ok(r.gcSharePct !== null && r.gcSharePct > 0 && r.gcSharePct < 100, `GC share ${r.gcSharePct}%`);
    assert.ok(keep.length === 0);
  });

  it('ignores comments and labels it does not know, sums GC kinds', () => {
    const text = [
      '# HELP skein_dp_nodejs_gc_duration_seconds x', '# TYPE skein_dp_nodejs_gc_duration_seconds histogram',
      'skein_dp_nodejs_gc_duration_seconds_bucket{le="0.001",kind="minor"} 3',
      'skein_dp_nodejs_gc_duration_seconds_sum{kind="minor"} 0.25',
      'skein_dp_nodejs_gc_duration_seconds_sum{kind="major"} 0.5',
      'skein_dp_nodejs_eventloop_lag_p99_seconds 0.0125',
      'skein_dp_nodejs_eventloop_lag_max_seconds 0.05',
      'skein_dp_nodejs_eventloop_lag_min_seconds 0.01',
    ].join('\n');
    const s = parseMetrics(text, 1000);
    assert.deepEqual(s, { atMs: 1000, gcSeconds: 0.75, eventLoopP99Ms: 12.5, eventLoopMaxMs: 50, eventLoopMinMs: 10 });
    // The histogram's min is its timer's period: what is reported is how much later than that the loop ran.
    assert.deepEqual(runtimeBetween({ ...s, gcSeconds: 0.25, atMs: 0 }, s), { gcSharePct: 50, eventLoopP99Ms: 2.5, eventLoopMaxMs: 40 });
  });
});
