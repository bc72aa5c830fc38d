// Configuration of `skein-dp run` and `skein-dp wait`, read in one place from argv + a plain env record so
// tests pass a map (CONVENTIONS §9). Errors name the bad flag; main exits 2 on them. May import errors, log, contract.
import { isIP } from 'node:net';
import { parseArgs } from 'node:util';
import { ConfigError } from '../errors.js';
import { PORTS } from '../contract.js';
import type { LevelWithSilent } from 'pino';
import { flagInParseArgsError, parseDuration, parsePort, parsePortList, parsePositiveInt } from './values.js';
import { parseOriginalProbes, type OriginalProbes } from './probes.js';

export type { OriginalProbes, AppProbe, ProbeKind } from './probes.js';
export { parseDuration } from './values.js';

/**
 * Server-speaks-first ports that never get protocol detection (Linkerd's default list): waiting for the
 * client's first bytes would only delay the banner by the detection timeout.
 */
export const DEFAULT_OPAQUE_PORTS: readonly number[] = [25, 587, 3306, 4444, 5432, 6379, 9300, 11211];

export const DEFAULT_PORTS = PORTS;

export interface ListenerPorts { outbound: number; inbound: number; admin: number; health: number }

export interface RunConfig {
  ports: ListenerPorts;
  /**
   * Address of the capture listeners 15001/15006. Default `::` (dual-stack): ip6tables REDIRECT lands on an
   * IPv6 address, iptables REDIRECT on an IPv4 one (seen as ::ffff:a.b.c.d); 0.0.0.0 where IPv6 is off.
   */
  bindAddress: string;
  /** The admin server's address. 127.0.0.1 always in product; only tests override it (no flag on purpose). */
  adminAddress: string;
  /** The health server's address: POD_IP, or 0.0.0.0 when POD_IP is unset. */
  healthAddress: string;
  podIP: string | undefined;
  opaquePorts: ReadonlySet<number>;
  detectTimeoutMs: number;
  drainTimeoutMs: number;
  /**
   * SIGTERM: the proxy stays up at least this long even when idle (capped by drainTimeoutMs). Without a pod-level
   * order both containers get SIGTERM at once; an app that is idle at that instant still needs outbound while
   * it shuts down (Istio's MINIMUM_DRAIN_DURATION, default 5 s, for the same reason).
   */
  drainMinMs: number;
  idleTimeoutMs: number;
  connectTimeoutMs: number;
  /** 0 = no limit. Inactivity timeout while waiting for/reading an HTTP response. */
  responseTimeoutMs: number;
  maxSocketsPerUpstream: number;
  maxUpstreamPools: number;
  /** Requests allowed to wait for a connection per upstream beyond its sockets; more are answered 503 at once. */
  maxPendingRequests: number;
  /** Open connections per capture listener; above it new ones are reset at accept (0 = no limit). */
  maxConnections: number;
  /** One log line per HTTP request (--access-log on|off, default on); connection lines are always written. */
  accessLog: boolean;
  logLevel: LevelWithSilent;
  probes: OriginalProbes;
  pod: { name?: string; namespace?: string; serviceAccount?: string; nodeName?: string };
  /**
   * skein-cp (SKEIN_CP_ADDRESS host:port); unset = standalone (no certificate, every destination passthrough).
   * tokenPath: the projected token (re-read on every call); caPath: the mesh trust anchors (root-cert.pem);
   * cpCaPath: the CA of skein-cp's own serving certificate (control-plane-ca.pem), re-read on every reconnect.
   * With an address, parseRunConfig requires tokenPath, cpCaPath, POD_NAME and POD_NAMESPACE.
   */
  controlPlane: { address?: string; tokenPath?: string; caPath?: string; cpCaPath?: string };
  /** Lifetime asked of skein-cp for the workload certificate (--cert-ttl), seconds; 0 = the mesh's certTTL. */
  certTtlSeconds: number;
  /**
   * SKEIN_DP_ORIG_DST_OVERRIDE=host:port sends every captured connection there instead of reading
   * SO_ORIGINAL_DST (like linkerd's test-only orig-dst override): running the proxy without iptables.
   */
  origDstOverride: { address: string; port: number; family: 4 | 6 } | undefined;
}

export type Env = Readonly<Record<string, string | undefined>>;

// pino's levels, listed here rather than imported from log/: parsing `skein-dp wait`'s flags must not load
// pino (main.ts imports only what each command runs). log/index.ts's LOG_LEVELS is the same list.
const LOG_LEVELS: readonly LevelWithSilent[] = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];
const isLogLevel = (value: string): value is LevelWithSilent => (LOG_LEVELS as readonly string[]).includes(value);

const RUN_OPTIONS = {
  'opaque-ports': { type: 'string' },
  'detect-timeout': { type: 'string' },
  'drain-timeout': { type: 'string' },
  'drain-min': { type: 'string' },
  'idle-timeout': { type: 'string' },
  'connect-timeout': { type: 'string' },
  'response-timeout': { type: 'string' },
  'log-level': { type: 'string' },
  'outbound-port': { type: 'string' },
  'inbound-port': { type: 'string' },
  'admin-port': { type: 'string' },
  'health-port': { type: 'string' },
  'bind-address': { type: 'string' },
  'max-upstream-sockets': { type: 'string' },
  'max-upstream-pools': { type: 'string' },
  'max-pending-requests': { type: 'string' },
  'max-connections': { type: 'string' },
  'access-log': { type: 'string' },
  'cert-ttl': { type: 'string' },
} as const;

export const RUN_USAGE = `skein-dp run [flags]   the sidecar proxy
  --opaque-ports <csv>        ports with no protocol detection, added to ${DEFAULT_OPAQUE_PORTS.join(',')}
  --detect-timeout <dur>      wait for the client's first bytes (default 1s); then the connection is opaque TCP
  --drain-timeout <dur>       SIGTERM grace: finish in-flight work, then exit (default 30s)
  --drain-min <dur>           SIGTERM: stay up at least this long, idle or not, so the app can still call out (default 5s)
  --idle-timeout <dur>        close TCP connections idle this long (default 1h)
  --connect-timeout <dur>     upstream connect timeout (default 5s)
  --response-timeout <dur>    HTTP upstream inactivity timeout, 0 = none (default 0)
  --log-level <level>         fatal|error|warn|info|debug|trace|silent (default info)
  --outbound-port <n> --inbound-port <n> --admin-port <n> --health-port <n>   (defaults ${PORTS.outbound} ${PORTS.inbound} ${PORTS.admin} ${PORTS.health})
  --bind-address <ip>         address of the capture listeners (default :: dual-stack, 0.0.0.0 without IPv6)
  --max-upstream-sockets <n>  HTTP connections per upstream (default 256); --max-upstream-pools <n> (default 1024)
  --max-pending-requests <n>  HTTP requests waiting for a connection per upstream; more get 503 at once (default 1024)
  --max-connections <n>       open connections per capture listener; more are reset at accept (default 8192)
  --access-log on|off         one log line per HTTP request (default on)
  --cert-ttl <dur>            certificate lifetime to ask skein-cp for, capped by the mesh's certTTL (default: the mesh's)
env: POD_IP, POD_NAME, POD_NAMESPACE, SERVICE_ACCOUNT, NODE_NAME, SKEIN_ORIGINAL_PROBES, SKEIN_CP_ADDRESS,
     SKEIN_TOKEN_PATH, SKEIN_CA_PATH, SKEIN_CP_CA_PATH (with SKEIN_CP_ADDRESS: SKEIN_TOKEN_PATH, SKEIN_CP_CA_PATH,
     POD_NAME and POD_NAMESPACE are required); SKEIN_DP_ORIG_DST_OVERRIDE=ip:port (no iptables: send everything there)`;

/** Parses `skein-dp run` flags (argv after `run`) and the downward-API env. Throws ConfigError. */
export function parseRunConfig(argv: readonly string[], env: Env): RunConfig {
  const values = parseFlags(argv, RUN_OPTIONS);
  const str = (name: keyof typeof RUN_OPTIONS): string | undefined => values[name] as string | undefined;
  const duration = (name: keyof typeof RUN_OPTIONS, fallback: number): number => {
    const raw = str(name);
    return raw === undefined ? fallback : parseDuration(`--${name}`, raw);
  };
  const port = (name: keyof typeof RUN_OPTIONS, fallback: number): number => {
    const raw = str(name);
    return raw === undefined ? fallback : parsePort(`--${name}`, raw);
  };
  const logLevel = str('log-level') ?? 'info';
  if (!isLogLevel(logLevel)) throw new ConfigError('--log-level', `"${logLevel}" is not one of fatal|error|warn|info|debug|trace|silent`);
  const podIP = nonEmpty(env['POD_IP']);
  const detectTimeoutMs = duration('detect-timeout', 1000);
  if (detectTimeoutMs === 0) throw new ConfigError('--detect-timeout', 'must be greater than 0');
  const certTtlMs = duration('cert-ttl', 0);
  if (certTtlMs !== 0 && certTtlMs < 1000) throw new ConfigError('--cert-ttl', 'must be at least 1s (or 0: the mesh\'s certTTL)');
  const controlPlane = parseControlPlane(env);
  return {
    ports: {
      outbound: port('outbound-port', DEFAULT_PORTS.outbound),
      inbound: port('inbound-port', DEFAULT_PORTS.inbound),
      admin: port('admin-port', DEFAULT_PORTS.admin),
      health: port('health-port', DEFAULT_PORTS.health),
    },
    bindAddress: str('bind-address') ?? '::',
    adminAddress: '127.0.0.1',
    healthAddress: podIP ?? '0.0.0.0',
    podIP,
    opaquePorts: new Set([...DEFAULT_OPAQUE_PORTS, ...parsePortList('--opaque-ports', str('opaque-ports') ?? '')]),
    detectTimeoutMs,
    drainTimeoutMs: duration('drain-timeout', 30_000),
    drainMinMs: duration('drain-min', 5_000),
    idleTimeoutMs: duration('idle-timeout', 3_600_000),
    connectTimeoutMs: duration('connect-timeout', 5_000),
    responseTimeoutMs: duration('response-timeout', 0),
    maxSocketsPerUpstream: parsePositiveInt('--max-upstream-sockets', str('max-upstream-sockets') ?? '256'),
    maxUpstreamPools: parsePositiveInt('--max-upstream-pools', str('max-upstream-pools') ?? '1024'),
    maxPendingRequests: parsePositiveInt('--max-pending-requests', str('max-pending-requests') ?? '1024'),
    maxConnections: parsePositiveInt('--max-connections', str('max-connections') ?? '8192'),
    accessLog: parseOnOff('--access-log', str('access-log') ?? 'on'),
    logLevel,
    probes: parseOriginalProbes(env['SKEIN_ORIGINAL_PROBES']),
    pod: dropUndefined({
      name: nonEmpty(env['POD_NAME']), namespace: nonEmpty(env['POD_NAMESPACE']),
      serviceAccount: nonEmpty(env['SERVICE_ACCOUNT']), nodeName: nonEmpty(env['NODE_NAME']),
    }),
    origDstOverride: parseOverride(env['SKEIN_DP_ORIG_DST_OVERRIDE']),
    controlPlane,
    certTtlSeconds: Math.ceil(certTtlMs / 1000),
  };
}

/**
 * SKEIN_CP_* and the files they name. Without SKEIN_CP_ADDRESS the sidecar is standalone; with it, what the
 * Certify and Watch calls need must be there, or the sidecar would start and never become ready.
 */
function parseControlPlane(env: Env): RunConfig['controlPlane'] {
  const controlPlane = dropUndefined({
    address: nonEmpty(env['SKEIN_CP_ADDRESS']), tokenPath: nonEmpty(env['SKEIN_TOKEN_PATH']),
    caPath: nonEmpty(env['SKEIN_CA_PATH']), cpCaPath: nonEmpty(env['SKEIN_CP_CA_PATH']),
  });
  if (controlPlane.address === undefined) return controlPlane;
  if (splitHostPort(controlPlane.address) === undefined) {
    throw new ConfigError('SKEIN_CP_ADDRESS', `"${controlPlane.address}" is not host:port (e.g. skein-cp.skein-system.svc:15012)`);
  }
  const required: Array<[string, string]> = [
    ['SKEIN_TOKEN_PATH', 'the projected service account token (audience skein-cp) that proves who this pod is'],
    ['SKEIN_CP_CA_PATH', 'the CA that signed skein-cp\'s certificate (control-plane-ca.pem of ConfigMap skein-ca-root)'],
    ['POD_NAME', 'the pod\'s name (downward API metadata.name), which discovery is asked for'],
    ['POD_NAMESPACE', 'the pod\'s namespace (downward API metadata.namespace)'],
  ];
  for (const [name, what] of required) {
    if (nonEmpty(env[name]) === undefined) {
      throw new ConfigError(name, `is required when SKEIN_CP_ADDRESS is set: ${what}. ` +
        'The injector sets it; unset SKEIN_CP_ADDRESS to run standalone (no mTLS)');
    }
  }
  return controlPlane;
}

/** "host:port", "[v6]:port" → its parts; undefined when it is not that shape or the port is not 1–65535. */
export function splitHostPort(address: string): { host: string; port: number } | undefined {
  const match = /^(?:\[([0-9A-Fa-f:.]+)\]|([^:[\]\s]+)):(\d{1,5})$/.exec(address);
  if (!match) return undefined;
  const port = Number(match[3]);
  if (port < 1 || port > 65535) return undefined;
  return { host: (match[1] ?? match[2]) as string, port };
}

export interface WaitConfig { timeoutMs: number; adminPort: number; intervalMs: number }

export const WAIT_USAGE = `skein-dp wait [--timeout 120s] [--admin-port ${PORTS.admin}]
  polls http://127.0.0.1:<admin-port>/ready until it answers 200 (exit 0), or exits 1 after the timeout`;

/** Parses `skein-dp wait` flags. Throws ConfigError. */
export function parseWaitConfig(argv: readonly string[]): WaitConfig {
  const values = parseFlags(argv, {
    timeout: { type: 'string' }, 'admin-port': { type: 'string' }, interval: { type: 'string' },
  } as const);
  return {
    timeoutMs: values.timeout === undefined ? 120_000 : parseDuration('--timeout', values.timeout),
    adminPort: values['admin-port'] === undefined ? DEFAULT_PORTS.admin : parsePort('--admin-port', values['admin-port']),
    // 50 ms: the app's containers start when this returns; a refused loopback connect costs nothing.
    intervalMs: values.interval === undefined ? 50 : parseDuration('--interval', values.interval),
  };
}

type StringOptions = Record<string, { type: 'string' }>;

function parseFlags<T extends StringOptions>(argv: readonly string[], options: T): { [K in keyof T]?: string } {
  try {
    const { values } = parseArgs({ args: [...argv], options, strict: true, allowPositionals: false });
    return values as { [K in keyof T]?: string };
  } catch (err) {
    // parseArgs messages already quote the flag ("Unknown option '--x'", "Option '--y <value>' argument missing").
    const message = (err as Error).message;
    const flag = flagInParseArgsError(message) ?? 'argv';
    throw new ConfigError(flag, message);
  }
}

function parseOverride(raw: string | undefined): RunConfig['origDstOverride'] {
  if (raw === undefined || raw.trim() === '') return undefined;
  const match = /^\[?([^\]]+?)\]?:(\d+)$/.exec(raw.trim());
  const address = match?.[1];
  if (!address || !isIP(address)) throw new ConfigError('SKEIN_DP_ORIG_DST_OVERRIDE', `"${raw}" is not IP:port`);
  return { address, port: parsePort('SKEIN_DP_ORIG_DST_OVERRIDE', match[2] as string), family: isIP(address) === 6 ? 6 : 4 };
}

function parseOnOff(flag: string, raw: string): boolean {
  if (raw === 'on') return true;
  if (raw === 'off') return false;
  throw new ConfigError(flag, `"${raw}" is not on or off`);
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value.trim() === '' ? undefined : value.trim();
}

function dropUndefined<T extends Record<string, string | undefined>>(record: T): { [K in keyof T]?: string } {
  return Object.fromEntries(Object.entries(record).filter(([, v]) => v !== undefined)) as { [K in keyof T]?: string };
}
