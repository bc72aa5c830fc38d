// Benchmark configuration, parsed in one place from argv and the environment so that errors name
// the flag. Defaults keep a full run (three scenarios) under ~5 minutes on two cores.
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export type ScenarioName = 'direct' | 'skein' | 'haproxy';
export type PhaseName = 'fixed' | 'max' | 'newconn' | 'bulk';
export const ALL_PHASES: readonly PhaseName[] = ['fixed', 'max', 'newconn', 'bulk'];
export const ALL_SCENARIOS: readonly ScenarioName[] = ['direct', 'skein', 'haproxy'];

export interface BenchConfig {
  repoRoot: string;
  outDir: string; // bench-results/
  scenarios: ScenarioName[];
  phases: PhaseName[]; // load phases to run (all by default; e.g. bulk alone to iterate on L4)
  fixedRate: { rate: number; durationS: number; warmupS: number; connections: number };
  maxThroughput: { connections: number; durationS: number };
  /** Connection per request (connect + handshakes + one GET + close), from `workers` concurrent clients. */
  newConn: { workers: number; durationS: number };
  bulkBytes: number;
  bulkCapS: number; // stop the bulk transfer after this long and count what was acknowledged
  cpuProf: boolean;
  haproxyTls: boolean; // mutual TLS between the two HAProxies (the mesh's hop is mTLS by design)
  clientCpu: string; // taskset list for the load generator
  serverCpu: string; // taskset list for server, sidecars, haproxy
  readyTimeoutS: number;
  skeinLocal: { stateDir: string; bridge: string; podCidr: string; serviceCidr: string };
}

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');

export const USAGE = `usage: npm run bench -- [options]
  --scenarios a,b,c     subset of direct,skein,haproxy (default: all three)
  --phases a,b,c        subset of fixed,max,newconn,bulk load phases (default: all four)
  --cpu-prof            run the skein scenario's sidecars with --cpu-prof and summarise the top functions
  --quick               short phases (smoke test of the harness, numbers are not meaningful)
  --rate N              fixed-rate requests per second (1000)
  --duration S          fixed-rate measured seconds (15)
  --max-duration S      max-throughput seconds (10)
  --bulk-mib N          bulk transfer size in MiB (1024)
  --bulk-cap S          stop the bulk transfer after S seconds, count what arrived (10)
  --haproxy-tls on|off  mutual TLS between the two HAProxies (on)
  --out DIR             where bench.json goes (bench-results)
environment: SKEIN_BENCH_STATE_DIR (/run/skein-bench), SKEIN_BENCH_BRIDGE (skbench),
  SKEIN_BENCH_POD_CIDR (10.254.0.0/24), SKEIN_BENCH_SERVICE_CIDR (10.254.128.0/24)`;

function num(flag: string, raw: string | undefined, dflt: number): number {
  if (raw === undefined) return dflt;
  const n = Number(raw);
  if (!Number.isFinite(n) || n <= 0) throw new Error(`bench: --${flag} needs a positive number, got ${JSON.stringify(raw)}`);
  return n;
}

function onOff(flag: string, raw: string | undefined, dflt: boolean): boolean {
  if (raw === undefined) return dflt;
  if (raw === 'on' || raw === 'off') return raw === 'on';
  throw new Error(`bench: --${flag} takes on or off, got ${JSON.stringify(raw)}`);
}

export function parseConfig(argv: string[], env: Record<string, string | undefined>): BenchConfig {
  const flags = new Map<string, string | undefined>();
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i] as string;
    if (!a.startsWith('--')) throw new Error(`bench: unexpected argument ${JSON.stringify(a)}\n${USAGE}`);
    const name = a.slice(2);
    if (['cpu-prof', 'quick', 'help'].includes(name)) flags.set(name, 'true');
    else flags.set(name, argv[++i]);
  }
  const known = ['scenarios', 'phases', 'cpu-prof', 'quick', 'help', 'rate', 'duration', 'max-duration', 'bulk-mib', 'bulk-cap', 'haproxy-tls', 'out'];
  for (const k of flags.keys()) if (!known.includes(k)) throw new Error(`bench: unknown flag --${k}\n${USAGE}`);
  const quick = flags.has('quick');
  const scenarios = (flags.get('scenarios') ?? ALL_SCENARIOS.join(',')).split(',').map((s) => s.trim());
  for (const s of scenarios) {
    if (!ALL_SCENARIOS.includes(s as ScenarioName)) throw new Error(`bench: --scenarios: unknown scenario ${JSON.stringify(s)}`);
  }
  const phases = (flags.get('phases') ?? ALL_PHASES.join(',')).split(',').map((s) => s.trim());
  for (const p of phases) {
    if (!ALL_PHASES.includes(p as PhaseName)) throw new Error(`bench: --phases: unknown phase ${JSON.stringify(p)} (fixed, max, bulk)`);
  }
  return {
    repoRoot,
    outDir: path.resolve(repoRoot, flags.get('out') ?? 'bench-results'),
    scenarios: scenarios as ScenarioName[],
    phases: phases as PhaseName[],
    fixedRate: {
      rate: num('rate', flags.get('rate'), 1000),
      durationS: num('duration', flags.get('duration'), quick ? 3 : 15),
      warmupS: quick ? 1 : 2,
      connections: 16,
    },
    maxThroughput: { connections: 64, durationS: num('max-duration', flags.get('max-duration'), quick ? 3 : 10) },
    newConn: { workers: 8, durationS: quick ? 2 : 8 },
    bulkBytes: Math.round(num('bulk-mib', flags.get('bulk-mib'), quick ? 64 : 1024) * 1024 * 1024),
    bulkCapS: num('bulk-cap', flags.get('bulk-cap'), quick ? 3 : 10),
    cpuProf: flags.has('cpu-prof'),
    haproxyTls: onOff('haproxy-tls', flags.get('haproxy-tls'), true),
    clientCpu: '1',
    serverCpu: '0',
    readyTimeoutS: 120,
    skeinLocal: {
      stateDir: env.SKEIN_BENCH_STATE_DIR ?? '/run/skein-bench',
      bridge: env.SKEIN_BENCH_BRIDGE ?? 'skbench',
      podCidr: env.SKEIN_BENCH_POD_CIDR ?? '10.254.0.0/24',
      serviceCidr: env.SKEIN_BENCH_SERVICE_CIDR ?? '10.254.128.0/24',
    },
  };
}

export function wantsHelp(argv: string[]): boolean {
  return argv.includes('--help') || argv.includes('-h');
}
