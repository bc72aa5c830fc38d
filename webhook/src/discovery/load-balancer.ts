// The Service annotation skein.io/load-balancer and the pod annotation skein.io/weight (docs/discovery.md
// "Load balancing annotations"), into Service.load_balancer and Endpoint.weight.
//
//   round-robin (default) | least-request | weighted | hash:header:<name> | hash:cookie:<name> | hash:source-ip
//
// A value that is none of these gives round robin with `invalidAnnotation` set to the value as written,
// so that the sidecar and /config_dump show it; skein-cp logs a warning once per change of the value and
// counts it (InvalidLoadBalancerReporter). A bad weight counts as not given (the default, 100).
import type { V1Pod, V1Service } from '@kubernetes/client-node';
import type { discovery } from '@skein/api';

export const ANNOTATION_LOAD_BALANCER = 'skein.io/load-balancer';
export const ANNOTATION_WEIGHT = 'skein.io/weight';

// The proto's LoadBalancerPolicy values.
const Policy = { UNSPECIFIED: 0, ROUND_ROBIN: 1, LEAST_REQUEST: 2, WEIGHTED: 3, HASH_HEADER: 4, HASH_COOKIE: 5, HASH_SOURCE_IP: 6 } as const;

// RFC 9110 token (a header field name) and RFC 6265 cookie-name (also a token).
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

/** The annotation's value parsed; undefined annotation → undefined (round robin, nothing to send). */
export function parseLoadBalancer(value: string | undefined): discovery.LoadBalancer | undefined {
  if (value === undefined) return undefined;
  const v = value.trim();
  const ok = (policy: number, hashKey = ''): discovery.LoadBalancer => ({ policy, hashKey, invalidAnnotation: '' });
  switch (v) {
    case 'round-robin': return ok(Policy.ROUND_ROBIN);
    case 'least-request': return ok(Policy.LEAST_REQUEST);
    case 'weighted': return ok(Policy.WEIGHTED);
    case 'hash:source-ip': return ok(Policy.HASH_SOURCE_IP);
    default: break;
  }
  if (v.startsWith('hash:header:')) {
    const name = v.slice('hash:header:'.length);
    if (TOKEN.test(name)) return ok(Policy.HASH_HEADER, name.toLowerCase());
  } else if (v.startsWith('hash:cookie:')) {
    const name = v.slice('hash:cookie:'.length);
    if (TOKEN.test(name)) return ok(Policy.HASH_COOKIE, name);
  }
  return { policy: Policy.ROUND_ROBIN, hashKey: '', invalidAnnotation: value };
}

export const serviceLoadBalancer = (svc: V1Service): discovery.LoadBalancer | undefined =>
  parseLoadBalancer(svc.metadata?.annotations?.[ANNOTATION_LOAD_BALANCER]);

/** skein.io/weight: an integer 1-1000, else 0 (not given → the sidecar uses 100). */
export function parseWeight(value: string | undefined): number {
  if (value === undefined || !/^\s*\d{1,4}\s*$/.test(value)) return 0;
  const n = Number(value);
  return n >= 1 && n <= 1000 ? n : 0;
}

export const podWeight = (pod: V1Pod | undefined): number => parseWeight(pod?.metadata?.annotations?.[ANNOTATION_WEIGHT]);

export interface InvalidLoadBalancer { readonly service: string; readonly annotation: string }

/**
 * Remembers the invalid annotation last reported per Service: `changes()` returns the ones new or changed
 * since the last call (a fixed Service is forgotten, so breaking it again is reported again).
 */
export class InvalidLoadBalancerTracker {
  private readonly reported = new Map<string, string>();
  changes(services: readonly discovery.Service[]): InvalidLoadBalancer[] {
    const out: InvalidLoadBalancer[] = [];
    const seen = new Set<string>();
    for (const svc of services) {
      const bad = svc.loadBalancer?.invalidAnnotation ?? '';
      if (bad === '') continue;
      const service = `${svc.namespace}/${svc.name}`;
      seen.add(service);
      if (this.reported.get(service) === bad) continue;
      this.reported.set(service, bad);
      out.push({ service, annotation: bad });
    }
    for (const key of this.reported.keys()) if (!seen.has(key)) this.reported.delete(key);
    return out;
  }
}
