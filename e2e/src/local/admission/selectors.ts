// Label selector evaluation as the API server does it for webhook namespaceSelector/objectSelector (pure).
import type { LabelSelector } from '../model/types.js';

/** True when `labels` satisfy `sel`. An absent or empty selector matches everything. */
export function matchesSelector(sel: LabelSelector | undefined | null, labels: Record<string, string> | undefined): boolean {
  if (!sel) return true;
  const l = labels ?? {};
  for (const [k, v] of Object.entries(sel.matchLabels ?? {})) {
    if (l[k] !== v) return false;
  }
  for (const e of sel.matchExpressions ?? []) {
    const has = Object.prototype.hasOwnProperty.call(l, e.key);
    const values = e.values ?? [];
    switch (e.operator) {
      case 'In': if (!has || !values.includes(l[e.key]!)) return false; break;
      case 'NotIn': if (has && values.includes(l[e.key]!)) return false; break;
      case 'Exists': if (!has) return false; break;
      case 'DoesNotExist': if (has) return false; break;
      default: throw new Error(`label selector operator "${e.operator}" is not one of In, NotIn, Exists, DoesNotExist`);
    }
  }
  return true;
}

/** Equality-based selector from `-l k=v,k2=v2` (also `k!=v`, `k`, `!k`). */
export function parseSelectorArg(arg: string): LabelSelector {
  const sel: Required<LabelSelector> = { matchLabels: {}, matchExpressions: [] };
  for (const part of arg.split(',').map((s) => s.trim()).filter(Boolean)) {
    let m: RegExpExecArray | null;
    if ((m = /^([^!=]+)!=(.*)$/.exec(part))) sel.matchExpressions.push({ key: m[1]!, operator: 'NotIn', values: [m[2]!] });
    else if ((m = /^([^!=]+)==?(.*)$/.exec(part))) sel.matchLabels[m[1]!] = m[2]!;
    else if (part.startsWith('!')) sel.matchExpressions.push({ key: part.slice(1), operator: 'DoesNotExist' });
    else sel.matchExpressions.push({ key: part, operator: 'Exists' });
  }
  return sel;
}
