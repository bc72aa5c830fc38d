// Turns the raw request body into a JSON value the rest of the handler may walk safely. The body size is
// capped before this runs (index.ts); here: empty or non-JSON bodies, nesting deeper than any Pod, and the
// keys that turn a later object merge into prototype pollution (fast-json-patch CVE-2021-4279 and kin).
import { BadRequestError } from './errors.js';

/** A Pod is about 12 levels deep (managedFields a few more); 100 leaves room and bounds every recursion after. */
export const MAX_DEPTH = 100;
/**
 * `__proto__` is refused anywhere. `constructor` and `prototype` are refused when they hold an object or a
 * list: that is what every pollution gadget needs (`constructor.prototype.x`), while as plain string-valued
 * keys they are valid label and annotation names (`prototype: v2`) that must not fail pod creation.
 */
function isForbidden(key: string, value: unknown): boolean {
  if (key === '__proto__') return true;
  return (key === 'constructor' || key === 'prototype') && typeof value === 'object' && value !== null;
}

/** Iterative (no recursion, so a hostile depth cannot overflow the stack): depth limit and forbidden keys. */
function checkTree(root: unknown): void {
  const stack: Array<[unknown, number]> = [[root, 0]];
  while (stack.length > 0) {
    const [value, depth] = stack.pop()!;
    if (typeof value !== 'object' || value === null) continue;
    if (depth >= MAX_DEPTH) {
      throw new BadRequestError('TooDeep', `request body is nested deeper than ${MAX_DEPTH} levels; no AdmissionReview of a Pod is`);
    }
    for (const key of Object.keys(value)) {
      const child = (value as Record<string, unknown>)[key];
      if (isForbidden(key, child)) {
        throw new BadRequestError('ForbiddenKey', `request body contains the key ${JSON.stringify(key)} with an object value, which no Kubernetes object has; refused to rule out prototype pollution`);
      }
      stack.push([child, depth + 1]);
    }
  }
}

export function parseJsonBody(body: unknown): unknown {
  if (!Buffer.isBuffer(body) || body.length === 0) {
    throw new BadRequestError('EmptyBody', 'request body is empty; POST an AdmissionReview (admission.k8s.io/v1) as JSON');
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(body.toString('utf8'));
  } catch {
    // SyntaxError, or RangeError on pathological input: both mean "not a JSON document we accept".
    throw new BadRequestError('InvalidJson', 'request body is not valid JSON; POST an AdmissionReview (admission.k8s.io/v1)');
  }
  checkTree(parsed);
  return parsed;
}
