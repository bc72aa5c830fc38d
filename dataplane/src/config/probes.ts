// Reads SKEIN_ORIGINAL_PROBES (docs/contracts.md): JSON `{"<container>": {"liveness"|"readiness"|"startup": Probe}}`
// with the app's original Kubernetes probes, named ports already resolved to numbers by the injector.
// Kept in Maps, never plain objects, so a container named `__proto__` in a URL cannot reach Object.prototype.
import { ConfigError } from '../errors.js';

export type ProbeKind = 'liveness' | 'readiness' | 'startup';
export const PROBE_KINDS: readonly ProbeKind[] = ['liveness', 'readiness', 'startup'];

export interface HttpGetAction {
  type: 'httpGet';
  scheme: 'HTTP' | 'HTTPS';
  host?: string;
  port: number;
  path: string;
  headers: Array<{ name: string; value: string }>;
}
export interface TcpSocketAction { type: 'tcpSocket'; host?: string; port: number }
export interface GrpcAction { type: 'grpc'; port: number; service: string }

/** One original probe: what to run and how long it may take. */
export interface AppProbe {
  action: HttpGetAction | TcpSocketAction | GrpcAction;
  timeoutMs: number;
}

export type OriginalProbes = ReadonlyMap<string, ReadonlyMap<ProbeKind, AppProbe>>;

const FLAG = 'SKEIN_ORIGINAL_PROBES';

export function parseOriginalProbes(raw: string | undefined): OriginalProbes {
  const probes = new Map<string, Map<ProbeKind, AppProbe>>();
  if (raw === undefined || raw.trim() === '') return probes;
  let doc: unknown;
  try {
    doc = JSON.parse(raw);
  } catch (err) {
    throw new ConfigError(FLAG, `not valid JSON (${(err as Error).message}); the injector writes it from the ` +
      'skein.io/original-probes annotation');
  }
  if (!isRecord(doc)) throw new ConfigError(FLAG, 'must be a JSON object keyed by container name');
  for (const [container, kinds] of Object.entries(doc)) {
    if (!isRecord(kinds)) throw new ConfigError(FLAG, `container "${container}": expected an object of probes`);
    const byKind = new Map<ProbeKind, AppProbe>();
    for (const [kind, probe] of Object.entries(kinds)) {
      if (!(PROBE_KINDS as readonly string[]).includes(kind)) {
        throw new ConfigError(FLAG, `container "${container}": unknown probe kind "${kind}" (liveness|readiness|startup)`);
      }
      if (probe === null || probe === undefined) continue;
      const parsed = parseProbe(`${container}.${kind}`, probe);
      if (parsed) byKind.set(kind as ProbeKind, parsed);
    }
    probes.set(container, byKind);
  }
  return probes;
}

/** Returns undefined for probe types the proxy does not run (exec stays with the kubelet). */
function parseProbe(where: string, probe: unknown): AppProbe | undefined {
  if (!isRecord(probe)) throw new ConfigError(FLAG, `${where}: expected a Probe object`);
  const timeoutSeconds = probe['timeoutSeconds'] === undefined ? 1 : Number(probe['timeoutSeconds']);
  if (!Number.isFinite(timeoutSeconds) || timeoutSeconds <= 0) throw new ConfigError(FLAG, `${where}: bad timeoutSeconds`);
  const timeoutMs = timeoutSeconds * 1000;
  const httpGet = probe['httpGet'];
  if (isRecord(httpGet)) {
    const scheme = String(httpGet['scheme'] ?? 'HTTP').toUpperCase();
    if (scheme !== 'HTTP' && scheme !== 'HTTPS') throw new ConfigError(FLAG, `${where}: scheme must be HTTP or HTTPS`);
    const headers = Array.isArray(httpGet['httpHeaders']) ? httpGet['httpHeaders'] : [];
    return {
      timeoutMs,
      action: {
        type: 'httpGet', scheme, port: portOf(where, httpGet['port']), path: String(httpGet['path'] ?? '/'),
        ...(typeof httpGet['host'] === 'string' && httpGet['host'] !== '' ? { host: httpGet['host'] } : {}),
        headers: headers.filter(isRecord).map((h) => ({ name: String(h['name']), value: String(h['value'] ?? '') })),
      },
    };
  }
  const tcp = probe['tcpSocket'];
  if (isRecord(tcp)) {
    return {
      timeoutMs,
      action: {
        type: 'tcpSocket', port: portOf(where, tcp['port']),
        ...(typeof tcp['host'] === 'string' && tcp['host'] !== '' ? { host: tcp['host'] } : {}),
      },
    };
  }
  const grpc = probe['grpc'];
  if (isRecord(grpc)) {
    return { timeoutMs, action: { type: 'grpc', port: portOf(where, grpc['port']), service: String(grpc['service'] ?? '') } };
  }
  return undefined;
}

function portOf(where: string, value: unknown): number {
  const port = typeof value === 'string' && /^\d+$/.test(value) ? Number(value) : value;
  if (typeof port !== 'number' || !Number.isInteger(port) || port < 1 || port > 65535) {
    throw new ConfigError(FLAG, `${where}: port ${JSON.stringify(value)} is not a number (named ports are resolved by the injector)`);
  }
  return port;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}
