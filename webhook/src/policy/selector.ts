// Label selectors of TrafficPermission.spec.selector (metav1.LabelSelector): parsed once, matched
// against each pod's labels. A selector is the destination side: pods of the policy's own namespace.
import type { MatchExpression, Selector } from './types.js';

export const SELECT_ALL: Selector = { matchLabels: {}, matchExpressions: [] };

const OPERATORS = new Set(['In', 'NotIn', 'Exists', 'DoesNotExist']);
/** A label value (empty, or up to 63 of [A-Za-z0-9-_.] starting and ending alphanumeric). */
const LABEL_VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;
/** A label key: an optional DNS-subdomain prefix and "/", then a name as a value but not empty. */
const LABEL_NAME = /^[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$/;
const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

export function labelKeyProblem(key: string): string | undefined {
  const slash = key.lastIndexOf('/');
  const prefix = slash >= 0 ? key.slice(0, slash) : undefined;
  const name = slash >= 0 ? key.slice(slash + 1) : key;
  if (prefix !== undefined && (prefix.length > 253 || !DNS_SUBDOMAIN.test(prefix))) return `label key ${JSON.stringify(key)}: the prefix must be a DNS subdomain`;
  if (name.length > 63 || !LABEL_NAME.test(name)) return `label key ${JSON.stringify(key)} is not a label name (up to 63 of A-Z a-z 0-9 - _ ., alphanumeric at both ends)`;
  return undefined;
}

const labelValueProblem = (v: string): string | undefined =>
  v.length > 63 || !LABEL_VALUE.test(v) ? `${JSON.stringify(v)} is not a label value (up to 63 of A-Z a-z 0-9 - _ ., alphanumeric at both ends), so it can select no pod` : undefined;

/** The selector, or the problems that make it unreadable (field paths from spec.selector). */
export function parseSelector(raw: unknown): { selector: Selector; problems: string[] } {
  if (raw === undefined || raw === null) return { selector: SELECT_ALL, problems: [] };
  if (!isRecord(raw)) return { selector: SELECT_ALL, problems: ['spec.selector must be an object ({matchLabels: {...}})'] };
  const problems: string[] = [];
  for (const k of Object.keys(raw)) if (k !== 'matchLabels' && k !== 'matchExpressions') problems.push(`spec.selector.${k} is not a field of a label selector (matchLabels, matchExpressions)`);
  const matchLabels: Record<string, string> = {};
  if (raw.matchLabels !== undefined) {
    if (!isRecord(raw.matchLabels)) problems.push('spec.selector.matchLabels must be a map of label to value');
    else {
      for (const [k, v] of Object.entries(raw.matchLabels)) {
        const kp = labelKeyProblem(k);
        if (kp) problems.push(`spec.selector.matchLabels: ${kp}`);
        if (typeof v !== 'string') problems.push(`spec.selector.matchLabels[${k}] must be a string`);
        else {
          const vp = labelValueProblem(v);
          if (vp) problems.push(`spec.selector.matchLabels[${k}]: ${vp}`);
          Object.defineProperty(matchLabels, k, { value: v, enumerable: true, writable: true, configurable: true });
        }
      }
    }
  }
  const matchExpressions: MatchExpression[] = [];
  if (raw.matchExpressions !== undefined) {
    if (!Array.isArray(raw.matchExpressions)) problems.push('spec.selector.matchExpressions must be a list');
    else {
      raw.matchExpressions.forEach((e: unknown, i) => {
        const at = `spec.selector.matchExpressions[${i}]`;
        if (!isRecord(e)) { problems.push(`${at} must be an object {key, operator, values}`); return; }
        const { key, operator, values } = e;
        if (typeof key !== 'string' || key === '') { problems.push(`${at}.key must be a label key`); return; }
        const kp = labelKeyProblem(key);
        if (kp) problems.push(`${at}: ${kp}`);
        if (typeof operator !== 'string' || !OPERATORS.has(operator)) { problems.push(`${at}.operator ${JSON.stringify(operator)} is not one of In, NotIn, Exists, DoesNotExist`); return; }
        const vals = values === undefined ? [] : values;
        if (!Array.isArray(vals) || vals.some((v) => typeof v !== 'string')) { problems.push(`${at}.values must be a list of strings`); return; }
        const strs = vals as string[];
        if ((operator === 'In' || operator === 'NotIn') && strs.length === 0) problems.push(`${at}: operator ${operator} needs at least one value`);
        if ((operator === 'Exists' || operator === 'DoesNotExist') && strs.length > 0) problems.push(`${at}: operator ${operator} takes no values`);
        for (const v of strs) { const vp = labelValueProblem(v); if (vp) problems.push(`${at}.values: ${vp}`); }
        matchExpressions.push({ key, operator: operator as MatchExpression['operator'], values: strs });
      });
    }
  }
  return problems.length > 0 ? { selector: SELECT_ALL, problems } : { selector: { matchLabels, matchExpressions }, problems };
}

/** Whether the selector selects a pod with these labels (matchLabels ⊆ labels, and every expression). */
export function selects(selector: Selector, labels: Readonly<Record<string, string>> | undefined): boolean {
  const l = labels ?? {};
  const has = (k: string): boolean => Object.prototype.hasOwnProperty.call(l, k);
  for (const [k, v] of Object.entries(selector.matchLabels)) if (!has(k) || l[k] !== v) return false;
  for (const e of selector.matchExpressions) {
    const present = has(e.key);
    switch (e.operator) {
      case 'In': if (!present || !e.values.includes(l[e.key] ?? '')) return false; break;
      case 'NotIn': if (present && e.values.includes(l[e.key] ?? '')) return false; break;
      case 'Exists': if (!present) return false; break;
      case 'DoesNotExist': if (present) return false; break;
    }
  }
  return true;
}
