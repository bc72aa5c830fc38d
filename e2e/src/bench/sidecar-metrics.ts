// The sidecars' own view of a load phase, from their Prometheus text (admin /metrics, prom-client's
// default Node metrics): GC time share and event-loop delay. Scraped just before and just after the
// phase: the GC histogram's sum is cumulative (share = its growth / wall time between the scrapes);
// the event-loop delay histogram (perf_hooks.monitorEventLoopDelay, 10 ms resolution) is reset by
// prom-client at every scrape, so the second scrape's p99/max cover exactly the phase. That histogram
// records the interval between its timer's firings (its min is the 10 ms resolution), so the delay
// reported is p99 − min and max − min: how late the loop was, not the timer's own period.

export interface MetricsSample {
  atMs: number;
  gcSeconds: number; // sum over all GC kinds since the process started
  eventLoopP99Ms: number | null;
  eventLoopMaxMs: number | null;
  eventLoopMinMs: number | null;
}

export interface SidecarRuntime {
  gcSharePct: number | null; // % of wall time spent in GC between the two scrapes
  eventLoopP99Ms: number | null;
  eventLoopMaxMs: number | null;
}

/** Reads the few series we need from Prometheus text exposition (no labels on the lag gauges). */
export function parseMetrics(text: string, atMs: number, prefix = 'skein_dp_'): MetricsSample {
  let gcSeconds = 0;
  let p99: number | null = null;
  let max: number | null = null;
  let min: number | null = null;
  for (const line of text.split('\n')) {
    if (line.startsWith('#') || line === '') continue;
    const space = line.lastIndexOf(' ');
    const name = line.slice(0, line.search(/[ {]/));
    const value = Number(line.slice(space + 1));
    if (!Number.isFinite(value)) continue;
    if (name === `${prefix}nodejs_gc_duration_seconds_sum`) gcSeconds += value;
    else if (name === `${prefix}nodejs_eventloop_lag_p99_seconds`) p99 = value * 1000;
    else if (name === `${prefix}nodejs_eventloop_lag_max_seconds`) max = value * 1000;
    else if (name === `${prefix}nodejs_eventloop_lag_min_seconds`) min = value * 1000;
  }
  return { atMs, gcSeconds, eventLoopP99Ms: p99, eventLoopMaxMs: max, eventLoopMinMs: min };
}

const r2 = (v: number): number => Math.round(v * 100) / 100;

export function runtimeBetween(before: MetricsSample, after: MetricsSample): SidecarRuntime {
  const wallS = (after.atMs - before.atMs) / 1000;
  const late = (v: number | null): number | null => (v === null ? null : r2(Math.max(0, v - (after.eventLoopMinMs ?? 0))));
  return {
    gcSharePct: wallS > 0 ? r2(((after.gcSeconds - before.gcSeconds) / wallS) * 100) : null,
    eventLoopP99Ms: late(after.eventLoopP99Ms),
    eventLoopMaxMs: late(after.eventLoopMaxMs),
  };
}
