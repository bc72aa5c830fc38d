// Test support: the parts of the API server's Pod validation (pkg/apis/core/validation) that a JSON schema
// cannot express and that an injector can break: unique names, mounts of existing volumes, what init
// containers may carry, downward-API paths, requests within limits.
import type { V1Container, V1Pod } from '@kubernetes/client-node';
import { parseQuantity } from '../../injector/quantity.js';

const FIELD_PATHS = /^(metadata\.(name|namespace|uid)|metadata\.(labels|annotations)\['[^']+'\]|spec\.(nodeName|serviceAccountName)|status\.(hostIP|hostIPs|podIP|podIPs))$/;

function duplicates(names: string[]): string[] {
  return names.filter((n, i) => names.indexOf(n) !== i);
}

function containerProblems(c: V1Container, init: boolean, volumes: Set<string>): string[] {
  const out: string[] = [];
  const sidecar = init && c.restartPolicy === 'Always';
  if (c.restartPolicy !== undefined && !sidecar) out.push(`${c.name}: restartPolicy only on init containers, only Always`);
  if (init && !sidecar && (c.lifecycle || c.livenessProbe || c.readinessProbe || c.startupProbe)) {
    out.push(`${c.name}: a plain init container may not have probes or lifecycle hooks`);
  }
  for (const m of c.volumeMounts ?? []) if (!volumes.has(m.name)) out.push(`${c.name}: mounts unknown volume ${m.name}`);
  out.push(...duplicates((c.volumeMounts ?? []).map((m) => m.mountPath)).map((p) => `${c.name}: mountPath ${p} twice`));
  for (const e of c.env ?? []) {
    const path = e.valueFrom?.fieldRef?.fieldPath;
    if (path !== undefined && !FIELD_PATHS.test(path)) out.push(`${c.name}: env ${e.name} has unsupported fieldPath ${path}`);
  }
  for (const r of ['cpu', 'memory']) {
    const req = c.resources?.requests?.[r];
    const lim = c.resources?.limits?.[r];
    if (req !== undefined && lim !== undefined && (parseQuantity(String(req)) ?? 0) > (parseQuantity(String(lim)) ?? 0)) {
      out.push(`${c.name}: ${r} request ${req} above limit ${lim}`);
    }
  }
  return out;
}

/** Problems the API server would reject the pod for; empty when none. */
export function podProblems(pod: V1Pod): string[] {
  const spec = pod.spec!;
  const init = spec.initContainers ?? [];
  const volumes = new Set((spec.volumes ?? []).map((v) => v.name));
  const out = [
    ...duplicates([...init, ...spec.containers].map((c) => c.name)).map((n) => `container name ${n} twice`),
    ...duplicates((spec.volumes ?? []).map((v) => v.name)).map((n) => `volume name ${n} twice`),
  ];
  const portNames = [...init, ...spec.containers].flatMap((c) => (c.ports ?? []).map((p) => p.name).filter((n): n is string => !!n));
  // Port names must be unique within a container; the injector's own must not clash with any in the pod.
  if (portNames.filter((n) => n === 'skein-health').length > 1) out.push('port name skein-health twice');
  for (const c of init) out.push(...containerProblems(c, true, volumes));
  for (const c of spec.containers) out.push(...containerProblems(c, false, volumes));
  return out;
}
