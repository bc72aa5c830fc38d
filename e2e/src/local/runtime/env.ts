// Container environment as kubelet builds it: env (with valueFrom, including the downward API),
// envFrom, and $(VAR) expansion in env values, command and args (pure).
import { EnvError } from '../errors.js';
import type { Container, EnvVar, Pod } from '../model/types.js';

export { EnvError };

/** What the downward API can read besides the pod object. */
export interface NodeFacts { hostIP: string; cpuCores: number; memoryBytes: number }

export type Lookup = (kind: 'ConfigMap' | 'Secret', name: string) => Record<string, string> | undefined;

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

export function parseQuantity(q: string | number): number {
  if (typeof q === 'number') return q;
  const m = /^([0-9.]+)([a-zA-Z]*)$/.exec(q.trim());
  if (!m) return Number(q) || 0;
  const units: Record<string, number> = { '': 1, m: 1e-3, k: 1e3, M: 1e6, G: 1e9, T: 1e12, Ki: 1024, Mi: 1024 ** 2, Gi: 1024 ** 3, Ti: 1024 ** 4 };
  return Number(m[1]) * (units[m[2]!] ?? 1);
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
    const data = lookup(src.configMapRef ? 'ConfigMap' : 'Secret', ref.name);
    if (!data) {
      if (ref.optional) continue;
      throw new EnvError(`container ${c.name}: envFrom ${src.configMapRef ? 'configMap' : 'secret'} "${ref.name}" not found`);
    }
    for (const [k, v] of Object.entries(data)) vars.set(`${src.prefix ?? ''}${k}`, v);
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
    const v = lookup(kind, ref.name)?.[ref.key];
    if (v === undefined) {
      if (ref.optional) return undefined;
      throw new EnvError(`container ${c.name}: env ${e.name}: ${kind} "${ref.name}" key "${ref.key}" not found`);
    }
    return v;
  }
  return '';
}
