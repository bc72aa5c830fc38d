// What the injector checks before it touches a pod: the pods it must never inject (skip, allowed untouched)
// and the pods it cannot inject safely (reject with a message saying what to change).
import type { V1Container, V1Pod, V1PodSecurityContext } from '@kubernetes/client-node';
import {
  ANNOTATION_INJECTED, ANNOTATION_MIRROR, HEALTH_PORT_NAME, INIT_CONTAINER_NAME, LABEL_INJECT, MESH_PORTS, PROXY_CONTAINER_NAME,
  PROXY_GID, PROXY_UID, RESERVED_VOLUMES, SYSTEM_NAMESPACES,
} from './constants.js';
import { InjectRejection, OPT_OUT_HINT } from './errors.js';

export type SkipReason =
  | 'disabled-label'
  | 'host-network'
  | 'system-namespace'
  | 'already-injected'
  | 'mirror-pod'
  | 'windows-pod';

export interface Skip { reason: SkipReason; message: string }

/** The containers of a pod as a typed list with where each one sits, for messages. */
export interface PlacedContainer { container: V1Container; field: 'containers' | 'initContainers' | 'ephemeralContainers' }

export function allContainers(pod: V1Pod): PlacedContainer[] {
  const spec = pod.spec;
  if (spec === undefined) return [];
  const fields = ['initContainers', 'containers', 'ephemeralContainers'] as const;
  return fields.flatMap((field) => (spec[field] ?? []).map((container) => ({ container: container as V1Container, field })));
}

/**
 * Why this pod must be left alone, or undefined when it may be injected. `controlPlaneNamespace` is where
 * skein-cp runs when that is not skein-system: its own pods must schedule while the webhook is down.
 */
export function skipReason(pod: V1Pod, namespace: string, controlPlaneNamespace?: string): Skip | undefined {
  const labels = pod.metadata?.labels ?? {};
  const annotations = pod.metadata?.annotations ?? {};
  if (labels[LABEL_INJECT] === 'disabled') {
    return { reason: 'disabled-label', message: `pod label ${LABEL_INJECT}: disabled` };
  }
  if (pod.spec?.hostNetwork === true) {
    // iptables rules written in the node's network namespace would capture the node's own traffic.
    return { reason: 'host-network', message: 'pod uses hostNetwork; its traffic cannot be captured without capturing the node' };
  }
  if (SYSTEM_NAMESPACES.includes(namespace) || namespace === controlPlaneNamespace) {
    return { reason: 'system-namespace', message: `namespace ${namespace} is never injected` };
  }
  if (annotations[ANNOTATION_INJECTED] !== undefined) {
    return { reason: 'already-injected', message: `pod has annotation ${ANNOTATION_INJECTED}` };
  }
  const names = allContainers(pod).map((p) => p.container.name);
  if (names.includes(PROXY_CONTAINER_NAME) || names.includes(INIT_CONTAINER_NAME)) {
    return { reason: 'already-injected', message: `pod already has a ${PROXY_CONTAINER_NAME} or ${INIT_CONTAINER_NAME} container` };
  }
  if (annotations[ANNOTATION_MIRROR] !== undefined) {
    return { reason: 'mirror-pod', message: 'static (mirror) pods belong to the kubelet' };
  }
  if (pod.spec?.os?.name === 'windows') {
    return { reason: 'windows-pod', message: 'Windows pods have no iptables' };
  }
  return undefined;
}

const KIND_LABEL: Readonly<Record<PlacedContainer['field'], string>> = {
  containers: 'container', initContainers: 'init container', ephemeralContainers: 'ephemeral container',
};
const label = ({ container, field }: PlacedContainer): string => `${KIND_LABEL[field]} "${container.name}"`;

function checkPorts(placed: PlacedContainer): void {
  for (const port of placed.container.ports ?? []) {
    if (MESH_PORTS.includes(port.containerPort)) {
      throw new InjectRejection('port-conflict',
        `${label(placed)} declares containerPort ${port.containerPort}, which the skein-proxy sidecar uses (ports ` +
        `${MESH_PORTS.join(', ')} are reserved in meshed pods); change the container's port ${OPT_OUT_HINT}`);
    }
  }
}

/**
 * iptables lets traffic of the proxy's UID *and* GID out uncaptured (skein-dp init, --uid-owner and
 * --gid-owner), so a container running as either would bypass the mesh unnoticed.
 */
function checkIdentity(placed: PlacedContainer, pod: V1PodSecurityContext | undefined): void {
  const sc = placed.container.securityContext;
  const checks = [
    { what: 'UID', field: 'runAsUser', own: sc?.runAsUser, inherited: pod?.runAsUser, reserved: PROXY_UID },
    { what: 'GID', field: 'runAsGroup', own: sc?.runAsGroup, inherited: pod?.runAsGroup, reserved: PROXY_GID },
  ] as const;
  for (const { what, field, own, inherited, reserved } of checks) {
    if ((own ?? inherited) !== reserved) continue;
    const where = own === undefined ? `the pod's spec.securityContext.${field}` : `its securityContext.${field}`;
    throw new InjectRejection(what === 'UID' ? 'uid-conflict' : 'gid-conflict',
      `${label(placed)} runs as ${what} ${reserved} (${where}), the ${what} of the skein-proxy sidecar, whose traffic ` +
      `iptables lets out uncaptured; run the container as another ${what} ${OPT_OUT_HINT}`);
  }
}

function checkReservedNames(pod: V1Pod): void {
  for (const { container } of allContainers(pod)) {
    if ((container.ports ?? []).some((p) => p.name === HEALTH_PORT_NAME)) {
      throw new InjectRejection('reserved-name',
        `container "${container.name}" names a port "${HEALTH_PORT_NAME}", the name of the sidecar's health port (port names are unique in a pod); rename the port ${OPT_OUT_HINT}`);
    }
  }
  for (const volume of pod.spec?.volumes ?? []) {
    if (RESERVED_VOLUMES.includes(volume.name)) {
      throw new InjectRejection('reserved-name',
        `volume "${volume.name}" uses a name the injector adds (${RESERVED_VOLUMES.join(', ')}); rename the volume ${OPT_OUT_HINT}`);
    }
  }
}

/** Throws InjectRejection when injecting would break the pod or let its traffic bypass the mesh. */
export function checkInjectable(pod: V1Pod): void {
  for (const placed of allContainers(pod)) {
    checkPorts(placed);
    checkIdentity(placed, pod.spec?.securityContext);
  }
  checkReservedNames(pod);
}
