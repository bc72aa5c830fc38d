// Load balancing per Service port (docs/dataplane.md "Load balancing"): the policy from the Service's
// skein.io/load-balancer annotation (Service.load_balancer in the snapshot) picks the algorithm.
import type { discovery } from '@skein/api';
import { leastRequest } from './least-request.js';
import { ringHash } from './ring.js';
import { roundRobin } from './round-robin.js';
import type { Balanced, Balancer } from './types.js';
import { weighted } from './weighted.js';

export { hash32, POINTS_PER_ENDPOINT, ringHash } from './ring.js';
export { leastRequest } from './least-request.js';
export { roundRobin } from './round-robin.js';
export { weighted } from './weighted.js';
export * from './types.js';

/** Where a hashing balancer takes its key from. */
export type HashOn = { kind: 'none' } | { kind: 'header'; name: string } | { kind: 'cookie'; name: string } | { kind: 'source-ip' };

export interface PortBalancer<E extends Balanced> extends Balancer<E> {
  readonly hashOn: HashOn;
}

// The proto's LoadBalancerPolicy values, spelled here so that this module loads nothing of @skein/api
// at run time (the package index pulls in grpc-js, which a standalone sidecar never loads).
const Policy = { LEAST_REQUEST: 2, WEIGHTED: 3, HASH_HEADER: 4, HASH_COOKIE: 5, HASH_SOURCE_IP: 6 } as const;

const NONE: HashOn = Object.freeze({ kind: 'none' });

export function buildBalancer<E extends Balanced>(lb: discovery.LoadBalancer | undefined, endpoints: readonly E[]): PortBalancer<E> {
  const policy: number = lb?.policy ?? 0;
  const key = (lb?.hashKey ?? '').toLowerCase();
  switch (policy) {
    case Policy.LEAST_REQUEST: return { ...leastRequest(endpoints), hashOn: NONE };
    case Policy.WEIGHTED: return { ...weighted(endpoints), hashOn: NONE };
    case Policy.HASH_HEADER:
      if (key !== '') return { ...ringHash(endpoints), hashOn: { kind: 'header', name: key } };
      break;
    case Policy.HASH_COOKIE:
      if (key !== '') return { ...ringHash(endpoints), hashOn: { kind: 'cookie', name: lb?.hashKey ?? '' } };
      break;
    case Policy.HASH_SOURCE_IP: return { ...ringHash(endpoints), hashOn: { kind: 'source-ip' } };
    default: break;
  }
  return { ...roundRobin(endpoints), hashOn: NONE };
}

/** The value of cookie `name` in a Cookie header, or undefined. */
export function cookieValue(header: string | undefined, name: string): string | undefined {
  if (header === undefined) return undefined;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq < 0) continue;
    if (part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}
