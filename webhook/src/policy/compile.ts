// From the cluster state to what each sidecar enforces: every TrafficPermission validated once per
// state version (validate.ts), indexed by namespace; a pod's rules are those of its namespace whose
// selector selects its labels, sorted by name (Snapshot.policies: the sidecar of that pod enforces them
// on its inbound traffic). Also the warnings that need the cluster: methods or paths on a port known to
// be opaque, where HTTP conditions cannot be checked (the sidecar fails closed: such an Allow never
// matches, such a Deny denies the whole connection). Pure.
import type { V1Pod } from '@kubernetes/client-node';
import { Action, Protocol, type discovery } from '@skein/api';
import { ANNOTATION_OPAQUE_PORTS, PROXY_CONTAINER_NAME } from '../injector/constants.js';
import { protocolFromName } from '../discovery/protocol.js';
import type { ClusterState } from '../discovery/types.js';
import { selects } from './selector.js';
import type { TrafficPermissionObject, Verdict } from './types.js';
import { validateTrafficPermission } from './validate.js';

/** skein-dp's default --opaque-ports (dataplane/src/config DEFAULT_OPAQUE_PORTS, server-first protocols). */
export const SIDECAR_DEFAULT_OPAQUE_PORTS: readonly number[] = [25, 587, 3306, 4444, 5432, 6379, 9300, 11211];

export interface PolicySet {
  /** Every TrafficPermission's verdict, by "<ns>/<name>", warnings about opaque ports included. */
  readonly verdicts: ReadonlyMap<string, Verdict>;
  /** The rules for the sidecar of this pod (its namespace's policies that select it), sorted by name. */
  forPod(pod: V1Pod | undefined): discovery.TrafficPermission[];
}

const byName = (a: Verdict, b: Verdict): number => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);

/** The ports of a pod that its sidecar treats as opaque: skein.io/opaque-ports and opaque-named container ports. */
function podOpaquePorts(pod: V1Pod): Set<number> {
  const out = new Set<number>();
  for (const s of (pod.metadata?.annotations?.[ANNOTATION_OPAQUE_PORTS] ?? '').split(',')) {
    const n = Number(s.trim());
    if (/^\d{1,5}$/.test(s.trim()) && n >= 1 && n <= 65535) out.add(n);
  }
  for (const c of pod.spec?.containers ?? []) {
    if (c.name === PROXY_CONTAINER_NAME) continue;
    for (const p of c.ports ?? []) if (protocolFromName(p.name) === Protocol.PROTOCOL_TCP) out.add(p.containerPort);
  }
  return out;
}

interface OpaquePod { readonly pod: V1Pod; readonly ports: ReadonlySet<number> }

function opaqueWarnings(v: Verdict, pods: readonly OpaquePod[]): string[] {
  if (v.effect !== 'enforced') return [];
  const out: string[] = [];
  // The sidecar fails closed both ways (dataplane/src/policy/rules.ts): an Allow's HTTP conditions never
  // match opaque traffic; a Deny's count as met, so it denies the whole connection.
  const rule = v.wire.action === Action.ACTION_ALLOW
    ? 'this Allow never allows opaque connections there (they are judged by the other rules)'
    : 'this Deny denies every opaque connection it selects there, whatever the methods and paths say';
  v.wire.to.forEach((d, i) => {
    if (d.methods.length === 0 && d.paths.length === 0) return;
    const defaults = d.ports.filter((p) => SIDECAR_DEFAULT_OPAQUE_PORTS.includes(p));
    if (defaults.length > 0) out.push(`spec.to[${i}] has methods or paths on port ${defaults.join(', ')}, which sidecars treat as opaque TCP by default (server-first protocols): HTTP conditions cannot be checked on opaque traffic, so ${rule}; judge it by ports alone`);
    const hits = new Map<number, string[]>();
    for (const { pod, ports } of pods) {
      if (!selects(v.selector, pod.metadata?.labels)) continue;
      for (const port of ports) {
        if (d.ports.length > 0 && (!d.ports.includes(port) || defaults.includes(port))) continue;
        const names = hits.get(port) ?? [];
        names.push(pod.metadata?.name ?? '');
        hits.set(port, names);
      }
    }
    for (const [port, names] of [...hits].sort(([a], [b]) => a - b)) {
      const some = names.sort().slice(0, 3).join(', ') + (names.length > 3 ? ` and ${names.length - 3} more` : '');
      out.push(`spec.to[${i}] has methods or paths and ${d.ports.length > 0 ? 'names' : 'applies to'} port ${port}, opaque on pod ${some} (skein.io/opaque-ports or an opaque port name): HTTP conditions cannot be checked on opaque traffic, so ${rule}`);
    }
  });
  return out;
}

/** Verdicts by stored object: the sources replace an object on every change, so an object seen before is judged once. */
const VERDICTS = new WeakMap<object, Verdict>();

function verdictOf(o: TrafficPermissionObject): Verdict {
  let v = VERDICTS.get(o);
  if (!v) { v = validateTrafficPermission(o); VERDICTS.set(o, v); }
  return v;
}

export function compilePolicies(state: ClusterState): PolicySet {
  // Only pods with opaque ports matter to the warnings (few: databases, caches), by namespace.
  const opaqueByNs = new Map<string, OpaquePod[]>();
  for (const pod of state.pods.values()) {
    const ports = podOpaquePorts(pod);
    if (ports.size === 0) continue;
    const ns = pod.metadata?.namespace ?? '';
    const l = opaqueByNs.get(ns) ?? [];
    l.push({ pod, ports });
    opaqueByNs.set(ns, l);
  }
  const verdicts = new Map<string, Verdict>();
  const byNs = new Map<string, Verdict[]>();
  for (const [key, o] of state.trafficPermissions) {
    const v0 = verdictOf(o as TrafficPermissionObject);
    const extra = opaqueWarnings(v0, opaqueByNs.get(v0.namespace) ?? []);
    const v = extra.length > 0 ? { ...v0, warnings: [...v0.warnings, ...extra] } : v0;
    verdicts.set(key, v);
    const l = byNs.get(v.namespace) ?? [];
    l.push(v);
    byNs.set(v.namespace, l);
  }
  for (const l of byNs.values()) l.sort(byName);
  // The replicas of a workload have the same labels: one selection per (namespace, labels) per state.
  const selected = new Map<string, discovery.TrafficPermission[]>();
  return {
    verdicts,
    forPod: (pod) => {
      if (!pod) return [];
      const ns = pod.metadata?.namespace ?? '';
      const policies = byNs.get(ns);
      if (!policies) return [];
      const labels = pod.metadata?.labels ?? {};
      const key = JSON.stringify([ns, Object.entries(labels).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))]);
      let out = selected.get(key);
      if (!out) {
        out = policies.filter((v) => selects(v.selector, labels)).map((v) => v.wire);
        selected.set(key, out);
      }
      return out;
    },
  };
}
