// Reading a sidecar's /stats. The suite compares counters before and after traffic, so it only
// needs "name -> number". Accepts JSON (nested objects are flattened to dotted names, arrays by
// index) and text lines `name value` / `name: value` / Prometheus `name{labels} value`.

export type Counters = ReadonlyMap<string, number>;

export function parseStats(body: string): Counters {
  const text = body.trim();
  const out = new Map<string, number>();
  if (text.startsWith('{') || text.startsWith('[')) {
    flatten(JSON.parse(text) as unknown, '', out);
    return out;
  }
  for (const line of text.split('\n')) {
    if (line.startsWith('#')) continue;
    const m = /^\s*([^\s:]+(?:\{[^}]*\})?)\s*[:=]?\s+(-?[0-9.eE+]+)\s*$/.exec(line);
    if (m && m[1] !== undefined && m[2] !== undefined) out.set(m[1], Number(m[2]));
  }
  return out;
}

function flatten(value: unknown, prefix: string, out: Map<string, number>): void {
  if (typeof value === 'number') {
    out.set(prefix, value);
  } else if (Array.isArray(value)) {
    value.forEach((v, i) => flatten(v, prefix ? `${prefix}.${i}` : String(i), out));
  } else if (value !== null && typeof value === 'object') {
    for (const [k, v] of Object.entries(value as Record<string, unknown>)) flatten(v, prefix ? `${prefix}.${k}` : k, out);
  }
}

/** Sum of the counters whose name matches `pattern` (0 when none does). */
export function sumOf(c: Counters, pattern: RegExp): number {
  let total = 0;
  for (const [name, v] of c) if (pattern.test(name)) total += v;
  return total;
}

/** Names matching `pattern`, for assertion messages that show what was there. */
export function namesOf(c: Counters, pattern: RegExp): string[] {
  return [...c.keys()].filter((n) => pattern.test(n));
}

/** after - before for every counter that changed. */
export function delta(before: Counters, after: Counters): Map<string, number> {
  const d = new Map<string, number>();
  for (const [name, v] of after) {
    const diff = v - (before.get(name) ?? 0);
    if (diff !== 0) d.set(name, diff);
  }
  return d;
}

export function showDelta(d: ReadonlyMap<string, number>): string {
  return [...d].map(([k, v]) => `${k} ${v > 0 ? '+' : ''}${v}`).join('\n') || '(no counter changed)';
}
