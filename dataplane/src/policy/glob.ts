// Literal globs for service accounts and namespaces: `*` is the only special character and stands for
// any run of characters other than `/`; everything else is itself (a `.` is a dot — never a regular
// expression, CVE-2026-39350). A pattern of exactly `*` matches any value. Pure; imports nothing.

export interface GlobSet {
  /** `*` was listed. */
  any: boolean;
  exact: ReadonlySet<string>;
  globs: ReadonlyArray<(value: string) => boolean>;
}

/** A matcher for one pattern with at least one `*` (not the lone `*`), by plain string comparisons. */
function globMatcher(pattern: string): (value: string) => boolean {
  const parts = pattern.split('*');
  const first = parts[0] as string;
  const last = parts[parts.length - 1] as string;
  const middle = parts.slice(1, -1);
  return (value: string): boolean => {
    if (value.length < first.length + last.length || !value.startsWith(first) || !value.endsWith(last)) return false;
    const end = value.length - last.length;
    let at = first.length;
    for (const part of middle) {
      const found = value.indexOf(part, at);
      if (found < 0 || found + part.length > end) return false;
      // A `*` never spans a `/`.
      if (value.slice(at, found).includes('/')) return false;
      at = found + part.length;
    }
    return !value.slice(at, end).includes('/');
  };
}

export function compileGlobs(patterns: readonly string[]): GlobSet {
  const exact = new Set<string>();
  const globs: Array<(value: string) => boolean> = [];
  let any = false;
  for (const p of patterns) {
    if (p === '*') any = true;
    else if (p.includes('*')) globs.push(globMatcher(p));
    else exact.add(p);
  }
  return { any, exact, globs };
}

export function matchesGlobs(set: GlobSet, value: string): boolean {
  if (set.any || set.exact.has(value)) return true;
  for (const g of set.globs) if (g(value)) return true;
  return false;
}
