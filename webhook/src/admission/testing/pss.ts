// Test support: the `restricted` Pod Security Standard (Kubernetes docs, "Pod Security Standards") as a list of
// violations per container, so tests can state exactly which exceptions the injector introduces.
import type { V1Container, V1Pod, V1PodSecurityContext } from '@kubernetes/client-node';

const ALLOWED_VOLUME_TYPES = new Set(['configMap', 'csi', 'downwardAPI', 'emptyDir', 'ephemeral', 'persistentVolumeClaim', 'projected', 'secret']);

export function containerViolations(c: V1Container, pod: V1PodSecurityContext | undefined): string[] {
  const sc = c.securityContext ?? {};
  const out: string[] = [];
  if (sc.privileged === true) out.push('privileged');
  if (sc.allowPrivilegeEscalation !== false) out.push('allowPrivilegeEscalation');
  if (sc.runAsNonRoot === false || (sc.runAsNonRoot ?? pod?.runAsNonRoot) !== true) out.push('runAsNonRoot');
  if ((sc.runAsUser ?? pod?.runAsUser) === 0) out.push('runAsUser=0');
  const seccomp = sc.seccompProfile?.type ?? pod?.seccompProfile?.type;
  if (seccomp !== 'RuntimeDefault' && seccomp !== 'Localhost') out.push('seccompProfile');
  if (!(sc.capabilities?.drop ?? []).includes('ALL')) out.push('capabilities.drop');
  for (const cap of sc.capabilities?.add ?? []) if (cap !== 'NET_BIND_SERVICE') out.push(`capabilities.add:${cap}`);
  return out;
}

/** Violations keyed by container name (all kinds of containers), plus `(pod)` for pod-level ones. */
export function podViolations(pod: V1Pod): Map<string, string[]> {
  const spec = pod.spec!;
  const result = new Map<string, string[]>();
  for (const c of [...(spec.initContainers ?? []), ...spec.containers, ...(spec.ephemeralContainers ?? []) as V1Container[]]) {
    result.set(c.name, containerViolations(c, spec.securityContext));
  }
  const podLevel: string[] = [];
  for (const v of spec.volumes ?? []) {
    const types = Object.keys(v).filter((k) => k !== 'name');
    for (const t of types) if (!ALLOWED_VOLUME_TYPES.has(t)) podLevel.push(`volume ${v.name}: ${t}`);
  }
  if (spec.hostNetwork || spec.hostPID || spec.hostIPC) podLevel.push('host namespaces');
  result.set('(pod)', podLevel);
  return result;
}

/** What running iptables needs, and nothing else, on skein-init. */
export const INIT_EXCEPTIONS: readonly string[] = ['runAsNonRoot', 'runAsUser=0', 'capabilities.add:NET_ADMIN', 'capabilities.add:NET_RAW'];
