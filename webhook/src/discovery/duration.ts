// Go's time.ParseDuration (Mesh.spec.mtls.certTTL is one): a sequence of decimal numbers, each with an
// optional fraction and a unit ns, us (µs, μs), ms, s, m, h, with an optional sign; "0" alone is zero.
const UNIT_NS: Readonly<Record<string, number>> = {
  ns: 1, us: 1e3, 'µs': 1e3, 'μs': 1e3, ms: 1e6, s: 1e9, m: 60e9, h: 3600e9,
};

/** The duration in nanoseconds, or undefined when Go would refuse the text. */
export function parseGoDuration(text: string): number | undefined {
  let s = text;
  let sign = 1;
  if (s.startsWith('-') || s.startsWith('+')) {
    if (s.startsWith('-')) sign = -1;
    s = s.slice(1);
  }
  if (s === '0') return 0;
  if (s === '') return undefined;
  let total = 0;
  const part = /^(\d*)(?:\.(\d*))?([^\d.]+)/;
  while (s !== '') {
    const m = part.exec(s);
    if (!m) return undefined;
    const [whole, int = '', frac, unit = ''] = m;
    if (int === '' && (frac === undefined || frac === '')) return undefined; // "." or ".s": no digits
    const scale = UNIT_NS[unit];
    if (scale === undefined) return undefined;
    total += Number(int || '0') * scale + (frac ? Number(`0.${frac}`) * scale : 0);
    s = s.slice(whole.length);
  }
  return sign * total;
}
