// Rewrites kubelet probes of app containers to go through the sidecar's health port. Under STRICT mTLS the
// kubelet (outside the mesh) could not reach the app any more; the sidecar, which is inside the pod, probes
// the app on the kubelet's behalf. The originals travel to the sidecar in `skein.io/original-probes`
// (docs/contracts.md) with named ports resolved to numbers, so the sidecar needs no pod spec.
import type { IntOrString, V1Container, V1Probe } from '@kubernetes/client-node';
import { PORT_HEALTH } from './constants.js';
import { InjectRejection, OPT_OUT_HINT } from './errors.js';

export type ProbeKind = 'liveness' | 'readiness' | 'startup';
const PROBE_FIELDS: ReadonlyArray<readonly [ProbeKind, 'livenessProbe' | 'readinessProbe' | 'startupProbe']> = [
  ['liveness', 'livenessProbe'], ['readiness', 'readinessProbe'], ['startup', 'startupProbe'],
];

export type OriginalProbes = Partial<Record<ProbeKind, V1Probe>>;

export interface RewrittenContainer {
  /** The same object as the input when nothing was rewritten (the patch diff relies on identity). */
  container: V1Container;
  originals: OriginalProbes | undefined;
}

function resolvePort(container: V1Container, kind: ProbeKind, port: IntOrString): number {
  if (typeof port === 'number') return port;
  if (typeof port !== 'string' || port === '') {
    throw new InjectRejection('invalid-pod', `container "${container.name}" has a ${kind} probe without a port; this is not a valid Pod`);
  }
  const found = (container.ports ?? []).find((p) => p.name === port);
  if (found === undefined) {
    throw new InjectRejection('unresolved-probe-port',
      `container "${container.name}" has a ${kind} probe on port "${port}", which is not the name of any of its ports; ` +
      `the sidecar must know the number to probe the app: use the port number or add a named containerPort, ${OPT_OUT_HINT}`);
  }
  return found.containerPort;
}

/** The original probe with named ports replaced by numbers; undefined for probes left as they are (exec). */
function resolvedOriginal(container: V1Container, kind: ProbeKind, probe: V1Probe): V1Probe | undefined {
  if (probe.httpGet !== undefined) {
    return { ...probe, httpGet: { ...probe.httpGet, port: resolvePort(container, kind, probe.httpGet.port) } };
  }
  if (probe.tcpSocket !== undefined) {
    return { ...probe, tcpSocket: { ...probe.tcpSocket, port: resolvePort(container, kind, probe.tcpSocket.port) } };
  }
  if (probe.grpc !== undefined) return probe;
  return undefined;
}

/** Keeps the timing fields (delay, period, timeout, thresholds, grace) and swaps the handler. */
function redirected(containerName: string, kind: ProbeKind, probe: V1Probe): V1Probe {
  const { httpGet: _h, tcpSocket: _t, grpc: _g, exec: _e, ...timing } = probe;
  return { ...timing, httpGet: { path: `/app-health/${containerName}/${kind}`, port: PORT_HEALTH, scheme: 'HTTP' } };
}

export function rewriteProbes(container: V1Container): RewrittenContainer {
  let rewritten: V1Container | undefined;
  const originals: OriginalProbes = {};
  for (const [kind, field] of PROBE_FIELDS) {
    const probe = container[field];
    if (probe === undefined) continue;
    const original = resolvedOriginal(container, kind, probe);
    if (original === undefined) continue;
    originals[kind] = original;
    rewritten = { ...(rewritten ?? container), [field]: redirected(container.name, kind, probe) };
  }
  return rewritten === undefined ? { container, originals: undefined } : { container: rewritten, originals };
}
