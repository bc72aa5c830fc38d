// Container environment as kubelet builds it: env (with valueFrom, including the downward API),
// envFrom, and $(VAR) expansion in env values, command and args (pure).
import { EnvError } from '../errors.js';
import { parseQuantityStrict } from '../model/quantity.js';
import type { Container, EnvVar, Pod } from '../model/types.js';
import type { KeyData } from '../store/key-data.js';

export { EnvError };

/** What the downward API can read besides the pod object. */
export interface NodeFacts { hostIP: string; cpuCores: number; memoryBytes: number }

export type Lookup = (kind: 'ConfigMap' | 'Secret', name: string) => KeyData | undefined;

const UTF8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/**
 * A ConfigMap/Secret value as an environment value. kubelet hands the bytes to the runtime as a CRI
 * string: since Kubernetes 1.34 (gRPC's UTF-8 check) bytes that are not UTF-8 fail the container with
 * "string field contains invalid UTF-8", and a NUL byte never fits in an environment (runc: "setenv:
 * invalid argument"). Node's process environment is text too, so skein-local refuses both the same way.
 */
function envText(bytes: Buffer, kind: 'ConfigMap' | 'Secret', name: string, key: string, where: string): string {
  const what = `${where}: ${kind} "${name}" key "${key}"`;
  let text: string;
  try {
    text = UTF8.decode(bytes);
  } catch {
    throw new EnvError(`${what} is not valid UTF-8 and an environment variable holds text (a real node fails the container the same way: "string field contains invalid UTF-8"): mount the ${kind} as a volume to read its bytes`);
  }
  if (text.includes('\0')) throw new EnvError(`${what} contains a NUL byte, which an environment variable cannot hold: mount the ${kind} as a volume to read its bytes`);
  return text;
}

/** Resolves a fieldRef path (metadata.name, metadata.labels['k'], status.podIP…); undefined when unsupported. */
export function fieldRefValue(pod: Pod, path: string, node: NodeFacts): string | undefined {
  const md = pod.metadata;
  const m = /^metadata\.(labels|annotations)\['(.+)'\]$/.exec(path);
  if (m) return (m[1] === 'labels' ? md.labels : md.annotations)?.[m[2]!] ?? '';
  switch (path) {
    case 'metadata.name': return md.name ?? '';
    case 'metadata.namespace': return md.namespace ?? 'default';
    case 'metadata.uid': return md.uid ?? '';
    case 'metadata.labels': return formatMap(md.labels);
    case 'metadata.annotations': return formatMap(md.annotations);
    case 'spec.nodeName': return pod.spec.nodeName ?? '';
    case 'spec.serviceAccountName': return pod.spec.serviceAccountName ?? 'default';
    case 'status.podIP': return pod.status?.podIP ?? '';
    case 'status.podIPs': return pod.status?.podIP ?? '';
    case 'status.hostIP': case 'status.hostIPs': return node.hostIP;
    default: return undefined;
  }
}

/** The downwardAPI volume format for label/annotation maps: one key="value" per line, sorted. */
export function formatMap(m: Record<string, string> | undefined): string {
  return Object.keys(m ?? {}).sort().map((k) => `${k}=${JSON.stringify(m![k])}`).join('\n');
}

/**
 * resourceFieldRef, approximated: the container's limit (or request) when set, else the node's capacity
 * for limits and 0 for requests. Divisor supports the usual suffixes; results round up as kubelet does.
 */
export function resourceValue(c: Container | undefined, resource: string, divisor: string | number | undefined, node: NodeFacts): string {
  const [kind, name] = resource.split('.') as ['limits' | 'requests', string];
  const declared = c?.resources?.[kind]?.[name] ?? (kind === 'requests' ? c?.resources?.limits?.[name] : undefined);
  const dflt = kind === 'limits' ? (name === 'cpu' ? node.cpuCores : node.memoryBytes) : 0;
  const value = declared !== undefined ? parseQuantity(declared) : dflt;
  const div = divisor !== undefined ? parseQuantity(divisor) : 1;
  return String(Math.ceil(value / (div || 1)));
}

/** A resource quantity for the downward API; 0 for text that is not one (the API server would refuse it). */
export function parseQuantity(q: string | number): number {
  try { return parseQuantityStrict(q); } catch { return 0; }
}

/** Kubelet's $(VAR) expansion: `$$` escapes a `$`, unknown references stay as written. */
export function expandVars(s: string, vars: ReadonlyMap<string, string>): string {
  return s.replace(/\$\$|\$\(([A-Za-z_][A-Za-z0-9_.-]*)\)/g, (whole, name: string | undefined) => {
    if (whole === '$$') return '$';
    return vars.has(name!) ? vars.get(name!)! : whole;
  });
}

/** The container's env as ordered name→value (envFrom first, then env; later entries win, as in kubelet). */
export function buildEnv(pod: Pod, c: Container, node: NodeFacts, lookup: Lookup, base: ReadonlyMap<string, string> = new Map()): Map<string, string> {
  const vars = new Map(base);
  for (const src of c.envFrom ?? []) {
    const ref = src.configMapRef ?? src.secretRef;
    if (!ref) continue;
    const kind = src.configMapRef ? 'ConfigMap' : 'Secret';
    const data = lookup(kind, ref.name);
    if (!data) {
      if (ref.optional) continue;
      throw new EnvError(`container ${c.name}: envFrom ${src.configMapRef ? 'configMap' : 'secret'} "${ref.name}" not found`);
    }
    for (const [k, v] of data.env) vars.set(`${src.prefix ?? ''}${k}`, envText(v, kind, ref.name, k, `container ${c.name}: envFrom`));
  }
  for (const e of c.env ?? []) {
    const v = envValue(pod, c, e, node, lookup, vars);
    if (v !== undefined) vars.set(e.name, v);
  }
  return vars;
}

function envValue(pod: Pod, c: Container, e: EnvVar, node: NodeFacts, lookup: Lookup, vars: Map<string, string>): string | undefined {
  if (!e.valueFrom) return expandVars(e.value ?? '', vars);
  const vf = e.valueFrom;
  if (vf.fieldRef) {
    const v = fieldRefValue(pod, vf.fieldRef.fieldPath, node);
    if (v === undefined) throw new EnvError(`container ${c.name}: env ${e.name}: fieldRef "${vf.fieldRef.fieldPath}" is not supported`);
    return v;
  }
  if (vf.resourceFieldRef) {
    const target = pod.spec.containers.find((x) => x.name === (vf.resourceFieldRef!.containerName ?? c.name)) ?? c;
    return resourceValue(target, vf.resourceFieldRef.resource, vf.resourceFieldRef.divisor, node);
  }
  const ref = vf.configMapKeyRef ?? vf.secretKeyRef;
  if (ref) {
    const kind = vf.configMapKeyRef ? 'ConfigMap' : 'Secret';
    const v = lookup(kind, ref.name)?.env.get(ref.key);
    if (v === undefined) {
      if (ref.optional) return undefined;
      throw new EnvError(`container ${c.name}: env ${e.name}: ${kind} "${ref.name}" key "${ref.key}" not found`);
    }
    return envText(v, kind, ref.name, ref.key, `container ${c.name}: env ${e.name}`);
  }
  return '';
}
