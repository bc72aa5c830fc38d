// skein-cp configuration: parsed in this one module from a plain record (flags + env) so tests pass a map.
// Imports only node: modules, ../contract.js, ../errors.js and ../log.js.
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { CONTROL_PLANE_NAMESPACE, GRPC_PORT, HEALTH_PORT, WEBHOOK_PATH, WEBHOOK_PORT } from '../contract.js';
import { ConfigError } from '../errors.js';
import { LOG_LEVELS } from '../log.js';
import type { LevelWithSilent } from 'pino';

export type Mode = 'kubernetes' | 'local';
export type NativeSidecarSetting = 'auto' | 'true' | 'false';

export interface CpConfig {
  readonly mode: Mode;
  /** Path to a kubeconfig file (kubernetes mode); undefined = in-cluster service account config. */
  readonly kubeconfig: string | undefined;
  /** Local mode state directory (absolute); undefined in kubernetes mode. */
  readonly stateDir: string | undefined;
  readonly webhookPort: number;
  readonly grpcPort: number;
  readonly healthPort: number;
  readonly bindAddress: string;
  readonly nativeSidecar: NativeSidecarSetting;
  /** Image of skein-init and skein-proxy; undefined = skein/dataplane:<version of skein-cp>. */
  readonly dataplaneImage: string | undefined;
  readonly logLevel: LevelWithSilent;
  /** Namespace holding the TLS Secret and the Lease (env POD_NAMESPACE, default skein-system). */
  readonly namespace: string;
  /** Identity of this replica in the Lease (env POD_NAME, else hostname-pid). */
  readonly podName: string;
  /** SPIFFE trust domain of the mesh: spiffe://<trustDomain>/ns/<ns>/sa/<sa>. */
  readonly trustDomain: string;
  /** Local mode: skein-local's object store (<dir>/<Kind>/<ns>/<name>.json) that discovery reads. */
  readonly localStore: string | undefined;
  /** Local mode: the public key that verifies skein-local's service account tokens (PEM). */
  readonly tokenPublicKey: string | undefined;
  readonly help: boolean;
}

export const DEFAULT_NAMESPACE = CONTROL_PLANE_NAMESPACE;

export const USAGE = `Usage: skein-cp [flags]

  --mode kubernetes|local     where state lives (default kubernetes)
  --kubeconfig PATH           kubeconfig file (kubernetes mode; default in-cluster config)
  --state-dir DIR             state directory (required in local mode)
  --webhook-port N            admission webhook, HTTPS, POST ${WEBHOOK_PATH} (default ${WEBHOOK_PORT}; 0 = pick a free port)
  --grpc-port N               identity + discovery gRPC over TLS (default ${GRPC_PORT}; 0 = pick)
  --health-port N             /healthz /readyz /metrics, plain HTTP (default ${HEALTH_PORT}; 0 = pick)
  --bind-address ADDR         listen address (default 0.0.0.0 in kubernetes mode, 127.0.0.1 in local mode)
  --native-sidecar auto|true|false
                              inject the sidecar as a native sidecar (Kubernetes >= 1.29); auto asks the
                              API server (local mode: auto = false)
  --dataplane-image IMAGE     image of the injected skein-init and skein-proxy (default
                              skein/dataplane:<skein-cp version>; set it when images come from a registry)
  --trust-domain NAME         SPIFFE trust domain of the mesh (default cluster.local)
  --local-store DIR           local mode: skein-local's object store, read by discovery
  --token-public-key FILE     local mode: public key (PEM) of skein-local's service account tokens
  --log-level LEVEL           fatal|error|warn|info|debug|trace|silent (default info)
  --help                      print this help

Environment: POD_NAMESPACE (default ${CONTROL_PLANE_NAMESPACE}), POD_NAME (lease holder identity).
`;

/** Flag values as parseArgs returns them: strings, booleans, or absent. */
export type FlagRecord = Readonly<Record<string, string | boolean | undefined>>;
export type EnvRecord = Readonly<Record<string, string | undefined>>;

const FLAG_SPEC = {
  mode: { type: 'string' },
  kubeconfig: { type: 'string' },
  'state-dir': { type: 'string' },
  'webhook-port': { type: 'string' },
  'grpc-port': { type: 'string' },
  'health-port': { type: 'string' },
  'bind-address': { type: 'string' },
  'native-sidecar': { type: 'string' },
  'dataplane-image': { type: 'string' },
  'log-level': { type: 'string' },
  'trust-domain': { type: 'string' },
  'local-store': { type: 'string' },
  'token-public-key': { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

/** argv (without node and script) → flag record. Unknown flags and missing values are ConfigErrors. */
export function parseArgv(argv: readonly string[]): FlagRecord {
  try {
    const { values } = parseArgs({ args: [...argv], options: FLAG_SPEC, strict: true, allowPositionals: false });
    return values;
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    // parseArgs names the offending option in its message (e.g. "Unknown option '--foo'").
    const flag = /'(-{1,2}[^'\s]+)/.exec(message)?.[1] ?? 'arguments';
    throw new ConfigError(flag, `${message}. Run skein-cp --help for the list of flags.`);
  }
}

/** Validated configuration from a flag record and the environment. */
export function configFromRecord(flags: FlagRecord, env: EnvRecord, hostname = 'skein-cp'): CpConfig {
  const mode = oneOf('--mode', flags['mode'], ['kubernetes', 'local'] as const, 'kubernetes');
  const stateDir = optionalString('--state-dir', flags['state-dir']);
  if (mode === 'local' && stateDir === undefined) {
    throw new ConfigError('--state-dir', 'is required with --mode local (a directory skein-cp may create and own)');
  }
  if (mode === 'kubernetes' && stateDir !== undefined) {
    throw new ConfigError('--state-dir', 'is only used with --mode local; kubernetes mode keeps its state in the API server');
  }
  const kubeconfig = optionalString('--kubeconfig', flags['kubeconfig']);
  if (mode === 'local' && kubeconfig !== undefined) {
    throw new ConfigError('--kubeconfig', 'is only used with --mode kubernetes');
  }
  const bindAddress = optionalString('--bind-address', flags['bind-address']) ?? (mode === 'local' ? '127.0.0.1' : '0.0.0.0');
  validateAddress('--bind-address', bindAddress);
  const namespace = env['POD_NAMESPACE']?.trim() || DEFAULT_NAMESPACE;
  if (!/^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/.test(namespace)) {
    throw new ConfigError('POD_NAMESPACE', `"${namespace}" is not a valid namespace name; set it to the namespace skein-cp runs in (the Deployment passes metadata.namespace) or unset it for ${DEFAULT_NAMESPACE}`);
  }
  const localStore = optionalString('--local-store', flags['local-store']);
  const tokenPublicKey = optionalString('--token-public-key', flags['token-public-key']);
  for (const [flag, value] of [['--local-store', localStore], ['--token-public-key', tokenPublicKey]] as const) {
    if (mode === 'kubernetes' && value !== undefined) throw new ConfigError(flag, 'is only used with --mode local; kubernetes mode reads the API server');
  }
  if (mode === 'local' && (localStore === undefined) !== (tokenPublicKey === undefined)) {
    throw new ConfigError(localStore === undefined ? '--local-store' : '--token-public-key', 'local mode needs both --local-store and --token-public-key to serve identity and discovery (skein-local passes both)');
  }
  const trustDomain = optionalString('--trust-domain', flags['trust-domain']) ?? 'cluster.local';
  if (!/^[a-z0-9]([a-z0-9.-]{0,253}[a-z0-9])?$/.test(trustDomain) || trustDomain.includes('..')) {
    throw new ConfigError('--trust-domain', `"${trustDomain}" is not a SPIFFE trust domain: lower-case letters, digits, dots and dashes, e.g. cluster.local`);
  }
  return {
    mode,
    kubeconfig,
    stateDir: stateDir === undefined ? undefined : resolve(stateDir),
    webhookPort: port('--webhook-port', flags['webhook-port'], WEBHOOK_PORT),
    grpcPort: port('--grpc-port', flags['grpc-port'], GRPC_PORT),
    healthPort: port('--health-port', flags['health-port'], HEALTH_PORT),
    bindAddress,
    nativeSidecar: oneOf('--native-sidecar', flags['native-sidecar'], ['auto', 'true', 'false'] as const, 'auto'),
    dataplaneImage: image('--dataplane-image', flags['dataplane-image']),
    logLevel: oneOf('--log-level', flags['log-level'], LOG_LEVELS, 'info'),
    namespace,
    podName: env['POD_NAME']?.trim() || `${hostname}-${process.pid}`,
    trustDomain,
    localStore: localStore === undefined ? undefined : resolve(localStore),
    tokenPublicKey: tokenPublicKey === undefined ? undefined : resolve(tokenPublicKey),
    help: flags['help'] === true,
  };
}

/** parseArgv + configFromRecord: what main() calls. */
export function loadConfig(argv: readonly string[], env: EnvRecord, hostname?: string): CpConfig {
  return configFromRecord(parseArgv(argv), env, hostname);
}

function optionalString(flag: string, value: string | boolean | undefined): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'string' || value.trim() === '') throw new ConfigError(flag, 'needs a non-empty value');
  return value;
}

function oneOf<T extends string>(flag: string, value: string | boolean | undefined, allowed: readonly T[], fallback: T): T {
  const raw = optionalString(flag, value);
  if (raw === undefined) return fallback;
  const found = allowed.find((a) => a === raw);
  if (found === undefined) throw new ConfigError(flag, `"${raw}" is not one of ${allowed.join(', ')}`);
  return found;
}

function port(flag: string, value: string | boolean | undefined, fallback: number): number {
  const raw = optionalString(flag, value);
  if (raw === undefined) return fallback;
  if (!/^\d{1,5}$/.test(raw)) throw new ConfigError(flag, `"${raw}" is not a port number (0-65535; 0 = pick a free port)`);
  const n = Number(raw);
  if (n > 65535) throw new ConfigError(flag, `${n} is above 65535; give a port number 0-65535 (0 = pick a free port)`);
  return n;
}

/** An image reference as a pod spec takes it: no spaces or control characters, no scheme. */
function image(flag: string, value: string | boolean | undefined): string | undefined {
  const raw = optionalString(flag, value);
  if (raw === undefined) return undefined;
  if (!/^[a-z0-9][a-z0-9._\-/:@]*$/i.test(raw) || raw.includes('://')) {
    throw new ConfigError(flag, `"${raw}" is not an image reference; give e.g. registry.example.com/skein/dataplane:0.1.0`);
  }
  return raw;
}

function validateAddress(flag: string, value: string): void {
  // IPv4 dotted quad, IPv6 literal, or a host name; listen() resolves names, but spaces or URLs are mistakes.
  if (!/^[0-9A-Za-z.:-]+$/.test(value) || value.includes('://')) {
    throw new ConfigError(flag, `"${value}" is not an IP address or host name`);
  }
}
