// Latency summaries from raw samples. A fixed-rate run holds ~15,000 samples: sorting them is
// exact and cheaper than pulling in a histogram library.

export interface LatencySummary {
  count: number;
  min: number;
  mean: number;
  p50: number;
  p90: number;
  p99: number;
  p999: number;
  max: number;
}

/** Nearest-rank percentile of an ascending array (q in 0..100). */
export function percentile(sorted: ArrayLike<number>, q: number): number {
  if (sorted.length === 0) return Number.NaN;
  const rank = Math.ceil((q / 100) * sorted.length);
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank - 1))] as number;
}

export function summarise(samples: Float64Array): LatencySummary {
  const s = Float64Array.from(samples).sort();
  let sum = 0;
  for (const v of s) sum += v;
  const r = (v: number): number => Math.round(v * 1000) / 1000; // µs resolution in ms
  return {
    count: s.length,
    min: r(s[0] ?? Number.NaN),
    mean: r(s.length ? sum / s.length : Number.NaN),
    p50: r(percentile(s, 50)),
    p90: r(percentile(s, 90)),
    p99: r(percentile(s, 99)),
    p999: r(percentile(s, 99.9)),
    max: r(s[s.length - 1] ?? Number.NaN),
  };
}
