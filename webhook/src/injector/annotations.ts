// Reads the pod annotations the injector honours into typed options, validating each one. Only the
// annotations listed in DESIGN.md / docs/contracts.md are read: nothing here can change the image, the
// capabilities or the UID of what is injected (reliability.md W6).
import { isIPv4, isIPv6 } from 'node:net';
import {
  ANNOTATION_ACCESS_LOG, ANNOTATION_EXCLUDE_INBOUND_PORTS, ANNOTATION_EXCLUDE_OUTBOUND_CIDRS, ANNOTATION_EXCLUDE_OUTBOUND_PORTS,
  ANNOTATION_NATIVE_SIDECAR, ANNOTATION_OPAQUE_PORTS, ANNOTATION_PROXY_CPU_LIMIT, ANNOTATION_PROXY_CPU_REQUEST,
  ANNOTATION_PROXY_MEMORY_LIMIT, ANNOTATION_PROXY_MEMORY_REQUEST,
} from './constants.js';
import { InjectRejection, OPT_OUT_HINT } from './errors.js';
import { parseQuantity } from './quantity.js';

export interface ProxyResources {
  requests: { cpu: string; memory: string };
  limits: { cpu?: string; memory: string };
}

export interface MeshOptions {
  nativeSidecar: boolean;
  /** Ports of `traffic.skein.io/exclude-inbound-ports` only (the mesh's own ports are added later). */
  excludeInboundPorts: number[];
  excludeOutboundPorts: number[] | undefined;
  excludeOutboundCidrs: string[] | undefined;
  opaquePorts: number[] | undefined;
  /** `skein.io/access-log`: one log line per HTTP request (skein-dp's default: on); undefined when absent. */
  accessLog: 'on' | 'off' | undefined;
  resources: ProxyResources;
}

/**
 * Defaults sized for a Node.js proxy at light load. No CPU limit: CFS throttling of a proxy adds latency to
 * every request of the app (Kuma and Linkerd ship without one too); memory is limited so a leak stays local.
 */
export const DEFAULT_PROXY_RESOURCES: ProxyResources = {
  requests: { cpu: '100m', memory: '64Mi' },
  limits: { memory: '256Mi' },
};

type Annotations = Readonly<Record<string, string>>;

function bad(key: string, value: string, what: string): InjectRejection {
  return new InjectRejection('invalid-annotation',
    `pod annotation ${key}: "${value}" is not valid: ${what}; fix the annotation or remove it, ${OPT_OUT_HINT}`);
}

function listItems(value: string): string[] {
  return value.split(',').map((s) => s.trim()).filter((s) => s !== '');
}

function parsePortList(ann: Annotations, key: string): number[] | undefined {
  const value = ann[key];
  if (value === undefined) return undefined;
  const ports = listItems(value).map((item) => {
    const port = /^\d{1,5}$/.test(item) ? Number(item) : Number.NaN;
    if (!(port >= 1 && port <= 65535)) throw bad(key, value, `"${item}" is not a port number 1-65535 (expected a comma list such as "8080,9090")`);
    return port;
  });
  return [...new Set(ports)].sort((a, b) => a - b);
}

/** An IPv4/IPv6 CIDR; a bare address is accepted and written with its host prefix (/32, /128). */
function normaliseCidr(item: string): string | undefined {
  const slash = item.indexOf('/');
  const addr = slash === -1 ? item : item.slice(0, slash);
  // node:net accepts IPv6 zone indexes (fe80::1%eth0); a zone has no meaning in a CIDR and skein-dp refuses it.
  if (addr.includes('%')) return undefined;
  const max = isIPv4(addr) ? 32 : isIPv6(addr) ? 128 : 0;
  if (max === 0) return undefined;
  if (slash === -1) return `${addr}/${max}`;
  const prefix = item.slice(slash + 1);
  if (!/^\d{1,3}$/.test(prefix) || Number(prefix) > max) return undefined;
  return `${addr}/${Number(prefix)}`;
}

function parseCidrList(ann: Annotations, key: string): string[] | undefined {
  const value = ann[key];
  if (value === undefined) return undefined;
  const cidrs = listItems(value).map((item) => {
    const cidr = normaliseCidr(item);
    if (cidr === undefined) throw bad(key, value, `"${item}" is not an IPv4 or IPv6 CIDR (expected e.g. "10.0.0.0/8,fd00::/8")`);
    return cidr;
  });
  return [...new Set(cidrs)];
}

function parseNative(ann: Annotations, fallback: boolean): boolean {
  const value = ann[ANNOTATION_NATIVE_SIDECAR];
  if (value === undefined) return fallback;
  if (value === 'true') return true;
  if (value === 'false') return false;
  throw bad(ANNOTATION_NATIVE_SIDECAR, value, 'expected "true" or "false"');
}

function parseAccessLog(ann: Annotations): 'on' | 'off' | undefined {
  const value = ann[ANNOTATION_ACCESS_LOG];
  if (value === undefined) return undefined;
  if (value === 'on' || value === 'off') return value;
  throw bad(ANNOTATION_ACCESS_LOG, value, 'expected "on" or "off"');
}

function quantity(ann: Annotations, key: string, fallback: string | undefined): string | undefined {
  const value = ann[key];
  if (value === undefined) return fallback;
  const trimmed = value.trim();
  if (parseQuantity(trimmed) === undefined) {
    throw bad(key, value, 'expected a non-negative Kubernetes quantity such as "250m", "0.5", "128Mi" or "1Gi"');
  }
  return trimmed;
}

function checkRequestWithinLimit(kind: 'cpu' | 'memory', request: string, limit: string | undefined): void {
  if (limit === undefined) return;
  if ((parseQuantity(request) ?? 0) > (parseQuantity(limit) ?? 0)) {
    const limitKey = kind === 'cpu' ? ANNOTATION_PROXY_CPU_LIMIT : ANNOTATION_PROXY_MEMORY_LIMIT;
    throw new InjectRejection('invalid-annotation',
      `skein-proxy ${kind} request ${request} is more than its limit ${limit}: set ${limitKey} to at least the request`);
  }
}

function parseResources(ann: Annotations): ProxyResources {
  const d = DEFAULT_PROXY_RESOURCES;
  const cpuRequest = quantity(ann, ANNOTATION_PROXY_CPU_REQUEST, d.requests.cpu) ?? d.requests.cpu;
  const memoryRequest = quantity(ann, ANNOTATION_PROXY_MEMORY_REQUEST, d.requests.memory) ?? d.requests.memory;
  const cpuLimit = quantity(ann, ANNOTATION_PROXY_CPU_LIMIT, d.limits.cpu);
  const memoryLimit = quantity(ann, ANNOTATION_PROXY_MEMORY_LIMIT, d.limits.memory) ?? d.limits.memory;
  checkRequestWithinLimit('cpu', cpuRequest, cpuLimit);
  checkRequestWithinLimit('memory', memoryRequest, memoryLimit);
  const limits: ProxyResources['limits'] = cpuLimit === undefined ? { memory: memoryLimit } : { cpu: cpuLimit, memory: memoryLimit };
  return { requests: { cpu: cpuRequest, memory: memoryRequest }, limits };
}

/**
 * Throws InjectRejection('invalid-annotation') naming the first bad annotation. `nativeSidecarDefault` applies
 * when the pod has no `skein.io/native-sidecar` annotation (decide.ts picks it per pod).
 */
export function readMeshOptions(annotations: Annotations, nativeSidecarDefault: boolean): MeshOptions {
  return {
    nativeSidecar: parseNative(annotations, nativeSidecarDefault),
    excludeInboundPorts: parsePortList(annotations, ANNOTATION_EXCLUDE_INBOUND_PORTS) ?? [],
    excludeOutboundPorts: parsePortList(annotations, ANNOTATION_EXCLUDE_OUTBOUND_PORTS),
    excludeOutboundCidrs: parseCidrList(annotations, ANNOTATION_EXCLUDE_OUTBOUND_CIDRS),
    opaquePorts: parsePortList(annotations, ANNOTATION_OPAQUE_PORTS),
    accessLog: parseAccessLog(annotations),
    resources: parseResources(annotations),
  };
}
