// A structural check of the fields the injector reads. The API server hands a mutating webhook a decoded Pod,
// so these hold there; skein-local and hand-made requests may send anything, and a wrong type must become a
// clear rejection, never a TypeError.
import type { V1Pod } from '@kubernetes/client-node';
import { InjectRejection } from './errors.js';

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function fail(path: string, what: string): never {
  throw new InjectRejection('invalid-pod', `pod field ${path} must be ${what}; this is not a valid Pod`);
}

function checkStringMap(v: unknown, path: string): void {
  if (v === undefined) return;
  if (!isRecord(v) || Object.values(v).some((s) => typeof s !== 'string')) fail(path, 'a map of strings');
}

function checkContainers(v: unknown, path: string, required: boolean): void {
  if (v === undefined && !required) return;
  if (!Array.isArray(v) || (required && v.length === 0)) fail(path, required ? 'a non-empty list' : 'a list');
  v.forEach((c: unknown, i) => {
    if (!isRecord(c) || typeof c.name !== 'string') fail(`${path}[${i}]`, 'a container with a name');
    if (c.ports !== undefined && (!Array.isArray(c.ports) || !c.ports.every(isRecord))) fail(`${path}[${i}].ports`, 'a list');
    if (c.securityContext !== undefined && !isRecord(c.securityContext)) fail(`${path}[${i}].securityContext`, 'an object');
    for (const probe of ['livenessProbe', 'readinessProbe', 'startupProbe']) {
      if (c[probe] !== undefined && !isRecord(c[probe])) fail(`${path}[${i}].${probe}`, 'an object');
    }
  });
}

/** Narrows `value` to a Pod whose fields the injector reads have the right types. */
export function assertPodShape(value: unknown): asserts value is V1Pod {
  if (!isRecord(value)) fail('(root)', 'an object');
  if (value.metadata !== undefined && !isRecord(value.metadata)) fail('metadata', 'an object');
  const metadata = value.metadata ?? {};
  checkStringMap(metadata.labels, 'metadata.labels');
  checkStringMap(metadata.annotations, 'metadata.annotations');
  if (!isRecord(value.spec)) fail('spec', 'an object');
  const spec = value.spec;
  checkContainers(spec.containers, 'spec.containers', true);
  checkContainers(spec.initContainers, 'spec.initContainers', false);
  checkContainers(spec.ephemeralContainers, 'spec.ephemeralContainers', false);
  if (spec.volumes !== undefined && (!Array.isArray(spec.volumes) || !spec.volumes.every(isRecord))) fail('spec.volumes', 'a list');
  if (spec.securityContext !== undefined && !isRecord(spec.securityContext)) fail('spec.securityContext', 'an object');
}
