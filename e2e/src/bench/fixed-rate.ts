// Open-loop fixed-rate HTTP load (entry point, run inside the client pod's network namespace).
// Request i is due at t0 + i/rate. Latency is measured from that intended send time to the end of
// the response, so a stall is charged to every request it delayed (no coordinated omission).
// The same run also records service time (from the actual write), to show how much the client's
// own queueing contributed. Prints one JSON object on stdout.
//
// Why not autocannon -R: autocannon 9 sends each connection's per-second quota back to back at the
// start of every second (bursts, not a fixed rate), records whole milliseconds, and its "correction"
// back-fills with an interval of ceil(1/rate) = 1 ms whatever the rate (lib/run.js, httpClient.js).
import { KeepAliveConn, type HttpTarget } from './http-conn.js';
import { summarise, type LatencySummary } from './stats.js';

export interface FixedRateOptions {
  target: HttpTarget;
  rate: number;
  durationS: number;
  warmupS: number;
  connections: number;
  graceS?: number; // how long after the last scheduled send to wait for answers (default 5)
}

export interface FixedRateResult {
  rate: number;
  durationS: number;
  connections: number;
  sent: number;
  completed: number;
  errors: number;
  non2xx: number;
  /** Requests still queued or in flight at the deadline (end of schedule + grace); their latency
   *  is recorded as a lower bound (deadline - intended). > 0 means the path did not sustain the rate. */
  unfinished: number;
  sustained: boolean;
  achievedRps: number;
  windowEpochMs: [number, number]; // the measured window, wall clock (to match CPU samples)
  latencyMs: LatencySummary; // from intended send time (corrected)
  serviceMs: LatencySummary; // from actual write (uncorrected)
  /** How late the generator itself noticed that a request was due (its event loop's lag on its
   *  core). Large values mean the client side, not the path, was starved of CPU. */
  generatorLagMs: LatencySummary;
}

function parseArgs(argv: string[]): FixedRateOptions {
  const get = (name: string, dflt?: string): string => {
    const i = argv.indexOf(`--${name}`);
    const v = i >= 0 ? argv[i + 1] : dflt;
    if (v === undefined) throw new Error(`fixed-rate: --${name} is required`);
    return v;
  };
  const url = new URL(get('url'));
  return {
    target: { host: url.hostname, port: Number(url.port || 80), path: url.pathname + url.search },
    rate: Number(get('rate', '1000')),
    durationS: Number(get('duration', '15')),
    warmupS: Number(get('warmup', '2')),
    connections: Number(get('connections', '16')),
  };
}

const nowNs = (): bigint => process.hrtime.bigint();

export async function runFixedRate(opts: FixedRateOptions): Promise<FixedRateResult> {
  const conns = await Promise.all(Array.from({ length: opts.connections }, () => KeepAliveConn.open(opts.target)));
  const idle: KeepAliveConn[] = [...conns];
  const queue: bigint[] = []; // intended send times of due requests waiting for a free connection
  const intervalNs = BigInt(Math.round(1e9 / opts.rate));
  const total = Math.round((opts.warmupS + opts.durationS) * opts.rate);
  const warm = Math.round(opts.warmupS * opts.rate);
  const latency = new Float64Array(total - warm);
  const service = new Float64Array(total - warm);
  const lag = new Float64Array(total);
  let recorded = 0;
  let answered = 0; // recorded samples that got a response (not written off at the deadline)
  let sent = 0;
  let completed = 0;
  let errors = 0;
  let non2xx = 0;
  let measureStart = 0n;
  let measureEnd = 0n;
  let unfinished = 0;
  let scheduled = 0;
  const inFlight = new Map<number, bigint>(); // index -> intended send time
  const t0 = nowNs() + 1_000_000n;
  const deadline = t0 + BigInt(Math.round((opts.warmupS + opts.durationS + (opts.graceS ?? 5)) * 1e9));

  const dispatch = (): void => {
    while (queue.length > 0 && idle.length > 0) {
      const conn = idle.pop() as KeepAliveConn;
      if (conn.closed) continue;
      const intended = queue.shift() as bigint;
      const index = sent++;
      const written = nowNs();
      inFlight.set(index, intended);
      conn.send((err, status) => {
        const end = nowNs();
        if (!inFlight.delete(index)) return; // already written off at the deadline
        completed++;
        if (err) errors++;
        else if (status < 200 || status >= 300) non2xx++;
        if (index >= warm && !err) {
          if (index === warm) measureStart = intended;
          measureEnd = end;
          latency[recorded] = Number(end - intended) / 1e6;
          service[recorded] = Number(end - written) / 1e6;
          recorded++;
          answered++;
        }
        if (!err) idle.push(conn);
        dispatch();
      });
    }
  };

  await new Promise<void>((resolve) => {
    // setImmediate spin: the generator owns its core (taskset -c 1), and timers are too coarse
    // (~1 ms) for a 1 ms interval. I/O is still polled on every turn of the loop.
    const tick = (): void => {
      const now = nowNs();
      while (scheduled < total && t0 + BigInt(scheduled) * intervalNs <= now) {
        const due = t0 + BigInt(scheduled) * intervalNs;
        lag[scheduled] = Number(now - due) / 1e6;
        queue.push(due);
        scheduled++;
      }
      dispatch();
      if (completed >= total || (errors > 0 && idle.length === 0 && conns.every((c) => c.closed))) {
        resolve();
        return;
      }
      if (now > deadline) {
        // Write off what is still queued or in flight: its latency is at least now - intended.
        // (Requests never scheduled cannot exist here: the schedule ended `grace` seconds ago.)
        const pending = [...inFlight.entries(), ...queue.map((intended, i) => [sent + i, intended] as const)];
        for (const [index, intended] of pending) {
          unfinished++;
          if (index < warm || recorded >= latency.length) continue;
          latency[recorded] = Number(now - intended) / 1e6;
          service[recorded] = Number.NaN;
          recorded++;
        }
        inFlight.clear();
        if (measureStart === 0n) measureStart = t0 + BigInt(warm) * intervalNs;
        measureEnd = now;
        resolve();
        return;
      }
      setImmediate(tick);
    };
    setImmediate(tick);
  });
  for (const c of conns) c.close();
  const seconds = Number(measureEnd - measureStart) / 1e9;
  const epochOffsetMs = Date.now() - Number(nowNs()) / 1e6;
  const epoch = (ns: bigint): number => Math.round(Number(ns) / 1e6 + epochOffsetMs);
  return {
    rate: opts.rate,
    durationS: opts.durationS,
    connections: opts.connections,
    sent,
    completed,
    errors,
    non2xx,
    unfinished,
    sustained: unfinished === 0 && errors === 0,
    achievedRps: seconds > 0 ? Math.round((answered / seconds) * 10) / 10 : 0,
    windowEpochMs: [epoch(measureStart), epoch(measureEnd)],
    latencyMs: summarise(latency.subarray(0, recorded)),
    generatorLagMs: summarise(lag.subarray(warm, scheduled)),
    serviceMs: summarise(service.subarray(0, recorded).filter((v) => !Number.isNaN(v))),
  };
}

if (process.argv[1]?.endsWith('fixed-rate.js')) {
  runFixedRate(parseArgs(process.argv.slice(2)))
    .then((r) => {
      console.log(JSON.stringify(r));
      process.exit(0);
    })
    .catch((err: unknown) => {
      console.error(`fixed-rate: ${err instanceof Error ? err.message : String(err)}`);
      process.exit(1);
    });
}
