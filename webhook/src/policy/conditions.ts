// status.conditions of a TrafficPermission from its verdict (docs/policy.md "## Validation"):
//   Valid     True  Valid                  the spec is valid
//             False Invalid                what is wrong, field by field
//   Accepted  True  Enforced               sent to the sidecars of the pods it selects, as written
//             True  EnforcedWithWarnings   as written, but probably not what was meant (the warnings)
//             False FailClosed             an invalid Deny: denies everything for its selector
//             False AllowsNothing          an invalid Allow: allows nothing (no fallback to the default)
// lastTransitionTime moves only when a condition's status changes (metav1.Condition).
import type { Condition, Verdict } from './types.js';

/** The CRD's maxLength of a condition message. */
const MAX_MESSAGE = 32768;

const clip = (s: string): string => (s.length <= MAX_MESSAGE ? s : `${s.slice(0, MAX_MESSAGE - 20)}… (message cut)`);

function selectorText(v: Verdict): string {
  const labels = Object.entries(v.selector.matchLabels).map(([k, val]) => `${k}=${val}`);
  const exprs = v.selector.matchExpressions.map((e) => `${e.key} ${e.operator}${e.values.length ? ` (${e.values.join(', ')})` : ''}`);
  const all = [...labels, ...exprs];
  return all.length === 0 ? `every pod of namespace ${v.namespace}` : `the pods of namespace ${v.namespace} with ${all.join(', ')}`;
}

/** What the verdict means for traffic, in one sentence (also logged). */
export function effectText(v: Verdict): string {
  switch (v.effect) {
    case 'enforced': return `enforced as written on ${selectorText(v)}`;
    case 'deny-all': return `fails closed: enforced as a Deny of every source, port, method and path on ${selectorText(v)} until the spec is fixed${v.problems.some((p) => p.startsWith('spec.action')) ? ' (an action that is not Allow counts as Deny)' : ''}`;
    case 'allow-nothing': return `enforced as an Allow that matches no request on ${selectorText(v)}: those pods accept only what other Allow permissions allow (never the Mesh default) until the spec is fixed`;
  }
}

export function desiredConditions(v: Verdict): Condition[] {
  const gen = v.generation !== undefined ? { observedGeneration: v.generation } : {};
  const warn = v.warnings.length > 0 ? ` Warnings: ${v.warnings.join('; ')}` : '';
  const valid: Condition = v.problems.length === 0
    ? { type: 'Valid', status: 'True', reason: 'Valid', message: 'the spec is valid', ...gen }
    : { type: 'Valid', status: 'False', reason: 'Invalid', message: clip(`${v.problems.join('; ')}.${warn}`), ...gen };
  const accepted: Condition =
    v.effect === 'enforced'
      ? v.warnings.length === 0
        ? { type: 'Accepted', status: 'True', reason: 'Enforced', message: effectText(v), ...gen }
        : { type: 'Accepted', status: 'True', reason: 'EnforcedWithWarnings', message: clip(`${effectText(v)}.${warn}`), ...gen }
      : { type: 'Accepted', status: 'False', reason: v.effect === 'deny-all' ? 'FailClosed' : 'AllowsNothing', message: clip(effectText(v)), ...gen };
  return [valid, accepted];
}

const sameCondition = (a: Condition, b: Condition | undefined): boolean =>
  b !== undefined && a.type === b.type && a.status === b.status && a.reason === b.reason && a.message === b.message && a.observedGeneration === b.observedGeneration;

/** Whether the stored conditions already say what `desired` says (lastTransitionTime aside). */
export function conditionsCurrent(desired: readonly Condition[], stored: readonly Condition[] | undefined): boolean {
  if (!stored || stored.length !== desired.length) return false;
  return desired.every((d) => sameCondition(d, stored.find((s) => s.type === d.type)));
}

/** `desired` with lastTransitionTime: kept from the stored condition of that type when its status is the same. */
export function withTransitionTimes(desired: readonly Condition[], stored: readonly Condition[] | undefined, now: Date): Condition[] {
  // metav1.Time: RFC 3339 in whole seconds.
  const stamp = now.toISOString().replace(/\.\d{3}Z$/, 'Z');
  return desired.map((d) => {
    const prev = stored?.find((s) => s.type === d.type);
    return { ...d, lastTransitionTime: prev && prev.status === d.status && prev.lastTransitionTime ? prev.lastTransitionTime : stamp };
  });
}
