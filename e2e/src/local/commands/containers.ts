// Which container `exec` and `logs` mean, as kubectl decides it (pure): `-c NAME`; else the container
// named by the annotation kubectl.kubernetes.io/default-container (the injector sets it); else the
// first app container — never the injected sidecar skein-proxy unless it is the only one.
import { NotFoundError } from '../errors.js';
import type { ContainerStatus, Pod } from '../model/types.js';

export const DEFAULT_CONTAINER_ANNOTATION = 'kubectl.kubernetes.io/default-container';
export const SIDECAR_NAME = 'skein-proxy';

export interface ContainerChoice {
  name: string;
  /** kubectl's stderr notice when it picked the first container itself ("Defaulted container …"). */
  notice?: string;
}

/** "app, skein-proxy (init)": app containers, then init containers, as kubectl lists them. */
export function containerNames(pod: Pod): string {
  return [...pod.spec.containers.map((c) => c.name), ...(pod.spec.initContainers ?? []).map((c) => `${c.name} (init)`)].join(', ');
}

export function chooseContainer(pod: Pod, requested: string | undefined): ContainerChoice {
  const all = [...pod.spec.containers, ...(pod.spec.initContainers ?? [])];
  const ref = `${pod.metadata.namespace ?? 'default'}/${pod.metadata.name}`;
  if (requested !== undefined) {
    if (!all.some((c) => c.name === requested)) {
      throw new NotFoundError(`container "${requested}" not found in pod ${ref}: its containers are ${containerNames(pod)}; pass one of them with -c`);
    }
    return { name: requested };
  }
  const annotated = pod.metadata.annotations?.[DEFAULT_CONTAINER_ANNOTATION];
  if (annotated && all.some((c) => c.name === annotated)) return { name: annotated };
  const first = pod.spec.containers.find((c) => c.name !== SIDECAR_NAME) ?? pod.spec.containers[0];
  if (!first) throw new NotFoundError(`pod ${ref} has no containers`);
  const several = pod.spec.containers.length > 1 || (pod.spec.initContainers ?? []).length > 0;
  return { name: first.name, ...(several ? { notice: `Defaulted container "${first.name}" out of: ${containerNames(pod)}` } : {}) };
}

/** The container's status as the pod reports it, or undefined before the kubelet reported it. */
export function containerStatus(pod: Pod, name: string): ContainerStatus | undefined {
  return [...(pod.status?.containerStatuses ?? []), ...(pod.status?.initContainerStatuses ?? [])].find((s) => s.name === name);
}

/** "waiting (CrashLoopBackOff: back-off 10s …)", "terminated (Completed, exit code 0)", for messages. */
export function describeState(s: ContainerStatus | undefined): string {
  if (!s) return 'not started yet';
  const st = s.state;
  if ('waiting' in st) return `waiting (${st.waiting.reason}${st.waiting.message ? `: ${st.waiting.message}` : ''})`;
  if ('terminated' in st) return `terminated (${st.terminated.reason}, exit code ${st.terminated.exitCode})`;
  return 'running';
}
