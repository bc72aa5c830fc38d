// Go's time.Parse, for exactly the two layouts kube-apiserver decodes timestamps with:
//   metav1.Time      UnmarshalJSON → time.Parse(time.RFC3339, s)           (apimachinery meta/v1/time.go)
//   metav1.MicroTime UnmarshalJSON → time.Parse(RFC3339Micro, s)           (apimachinery meta/v1/micro_time.go)
// and their MarshalJSON (UTC; Time at whole seconds, MicroTime with six digits).
//
// A port of the generic parser in Go's src/time/format.go (`parse`): chunk by chunk, same rules, same error
// text, so a test sees what a real API server answers. The points that matter:
// - stdFracSecond0 (".000000") "requires the exact number of digits as specified in the layout": a
//   MicroTime needs exactly six digits after '.' or ','. Three digits (a JS toISOString) fail with
//   `cannot parse ".646Z" as ".000000"`; none, or nine, fail too.
// - With time.RFC3339 (no fraction in the layout) the stdSecond special case accepts a fraction of any
//   length, so a metav1.Time with milliseconds is accepted (and truncated to seconds when stored).
// - Hour "15" is stdHour: one or two digits. Month, day, minute, second: exactly two. Zone: 'Z' or ±hh:mm.
// - time.Parse's RFC3339 fast path (format_rfc3339.go, parseRFC3339) accepts a subset of what the generic
//   parser accepts, so modelling the generic parser gives the same accept/reject answer.

export const RFC3339 = '2006-01-02T15:04:05Z07:00';
export const RFC3339_MICRO = '2006-01-02T15:04:05.000000Z07:00';
export type GoLayout = typeof RFC3339 | typeof RFC3339_MICRO;

/** An instant with the nanoseconds Go keeps (a JS Date would lose the microseconds). */
export interface GoTime {
  /** Unix seconds, UTC. */
  readonly seconds: number;
  readonly nanos: number;
}

export class GoTimeParseError extends Error {}

type Std = 'longYear' | 'zeroMonth' | 'zeroDay' | 'hour' | 'zeroMinute' | 'zeroSecond' | 'frac6' | 'isoColonTz';
interface Chunk { readonly prefix: string; readonly std: Std; readonly stdstr: string }

const DATE_TIME: readonly Chunk[] = [
  { prefix: '', std: 'longYear', stdstr: '2006' },
  { prefix: '-', std: 'zeroMonth', stdstr: '01' },
  { prefix: '-', std: 'zeroDay', stdstr: '02' },
  { prefix: 'T', std: 'hour', stdstr: '15' },
  { prefix: ':', std: 'zeroMinute', stdstr: '04' },
  { prefix: ':', std: 'zeroSecond', stdstr: '05' },
];
const TZ: Chunk = { prefix: '', std: 'isoColonTz', stdstr: 'Z07:00' };
const CHUNKS: Record<GoLayout, readonly Chunk[]> = {
  [RFC3339]: [...DATE_TIME, TZ],
  [RFC3339_MICRO]: [...DATE_TIME, { prefix: '', std: 'frac6', stdstr: '.000000' }, TZ],
};

/** Go's time.quote: double quotes, backslash-escaped quote and backslash. */
function quote(s: string): string {
  return `"${s.replace(/["\\]/g, (c) => `\\${c}`)}"`;
}

const isDigit = (s: string, i: number): boolean => i < s.length && s.charCodeAt(i) >= 48 && s.charCodeAt(i) <= 57;

/** Go's getnum: one or two leading digits; `fixed` requires two. */
function getnum(s: string, fixed: boolean): { n: number; rest: string } | undefined {
  if (!isDigit(s, 0)) return undefined;
  if (!isDigit(s, 1)) return fixed ? undefined : { n: Number(s[0]), rest: s.slice(1) };
  return { n: Number(s.slice(0, 2)), rest: s.slice(2) };
}

/** Go's time.atoi: optional sign, then digits only (an empty digit run is 0, as leadingInt allows). */
function atoi(s: string): number | undefined {
  const m = /^([+-]?)(\d*)$/.exec(s);
  if (!m) return undefined;
  const n = Number(m[2] === '' ? '0' : m[2]);
  return m[1] === '-' ? -n : n;
}

/** Go's parseNanoseconds(value, nbytes): value[0] is '.' or ','; the digits scaled to nanoseconds. */
function parseNanoseconds(value: string, nbytes: number): { ns: number } | { range: string } | undefined {
  if (value[0] !== '.' && value[0] !== ',') return undefined;
  const n = Math.min(nbytes, 10);
  const ns = atoi(value.slice(1, n));
  if (ns === undefined) return undefined;
  if (ns < 0) return { range: 'fractional second' };
  return { ns: ns * 10 ** (10 - n) };
}

function daysIn(month: number, year: number): number {
  if (month === 2) return (year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0)) ? 29 : 28;
  return [4, 6, 9, 11].includes(month) ? 30 : 31;
}

/** time.Parse(layout, value) for RFC3339 / RFC3339Micro; throws GoTimeParseError with Go's message. */
export function parseGoTime(layout: GoLayout, value: string): GoTime {
  const bad = (stdstr: string, hold: string): GoTimeParseError =>
    new GoTimeParseError(`parsing time ${quote(value)} as ${quote(layout)}: cannot parse ${quote(hold)} as ${quote(stdstr)}`);
  const outOfRange = (what: string): GoTimeParseError => new GoTimeParseError(`parsing time ${quote(value)}: ${what} out of range`);
  let rest = value;
  let year = 0; let month = -1; let day = -1; let hour = 0; let min = 0; let sec = 0; let nsec = 0; let offset = 0;
  const chunks = CHUNKS[layout];
  for (const [i, c] of chunks.entries()) {
    if (!rest.startsWith(c.prefix)) throw bad(c.prefix, rest);
    rest = rest.slice(c.prefix.length);
    const hold = rest;
    switch (c.std) {
      case 'longYear': {
        const y = rest.length >= 4 && isDigit(rest, 0) ? atoi(rest.slice(0, 4)) : undefined;
        if (y === undefined) throw bad(c.stdstr, hold);
        year = y; rest = rest.slice(4);
        break;
      }
      case 'zeroMonth': case 'zeroDay': case 'hour': case 'zeroMinute': case 'zeroSecond': {
        const g = getnum(rest, c.std !== 'hour');
        if (!g) throw bad(c.stdstr, hold);
        rest = g.rest;
        if (c.std === 'zeroMonth') { month = g.n; if (month <= 0 || month > 12) throw outOfRange('month'); }
        if (c.std === 'zeroDay') day = g.n; // validated against the month at the end, as Go does
        if (c.std === 'hour') { hour = g.n; if (hour >= 24) throw outOfRange('hour'); }
        if (c.std === 'zeroMinute') { min = g.n; if (min >= 60) throw outOfRange('minute'); }
        if (c.std === 'zeroSecond') {
          sec = g.n;
          if (sec >= 60) throw outOfRange('second');
          // Go: a fraction in the input but none in the layout is accepted here, any number of digits.
          if (rest.length >= 2 && (rest[0] === '.' || rest[0] === ',') && isDigit(rest, 1) && chunks[i + 1]?.std !== 'frac6') {
            let n = 2;
            while (isDigit(rest, n)) n += 1;
            const f = parseNanoseconds(rest, n);
            if (f === undefined) throw bad(c.stdstr, hold);
            if ('range' in f) throw outOfRange(f.range);
            nsec = f.ns; rest = rest.slice(n);
          }
        }
        break;
      }
      case 'frac6': {
        // stdFracSecond0: exactly 1 + 6 bytes, the separator and six digits.
        if (rest.length < 7) throw bad(c.stdstr, hold);
        const f = parseNanoseconds(rest, 7);
        if (f === undefined) throw bad(c.stdstr, hold);
        if ('range' in f) throw outOfRange(f.range);
        nsec = f.ns; rest = rest.slice(7);
        break;
      }
      case 'isoColonTz': {
        if (rest[0] === 'Z') { rest = rest.slice(1); offset = 0; break; }
        if (rest.length < 6 || rest[3] !== ':') throw bad(c.stdstr, hold);
        const hh = getnum(rest.slice(1, 3), true);
        const mm = getnum(rest.slice(4, 6), true);
        if (!hh || !mm) throw bad(c.stdstr, hold);
        // Go's range test uses > (offsets of 24 h or 60 min are written by some people).
        if (hh.n > 24) throw outOfRange('time zone offset hour');
        if (mm.n > 60) throw outOfRange('time zone offset minute');
        if (rest[0] !== '+' && rest[0] !== '-') throw bad(c.stdstr, hold);
        offset = (rest[0] === '-' ? -1 : 1) * (hh.n * 60 + mm.n) * 60;
        rest = rest.slice(6);
        break;
      }
    }
  }
  if (rest.length !== 0) throw new GoTimeParseError(`parsing time ${quote(value)}: extra text: ${quote(rest)}`);
  if (day < 1 || day > daysIn(month, year)) throw outOfRange('day');
  const d = new Date(0);
  d.setUTCFullYear(year, month - 1, day);
  d.setUTCHours(hour, min, sec, 0);
  return { seconds: d.getTime() / 1000 - offset, nanos: nsec };
}

/** `YYYY-MM-DDTHH:MM:SS` in UTC (toISOString writes four-digit years for 0..9999, Go's range here). */
function utcDateTime(t: GoTime): string {
  return new Date(t.seconds * 1000).toISOString().slice(0, 19);
}

/** metav1.Time MarshalJSON: `t.UTC().Format(time.RFC3339)`, whole seconds. */
export function formatGoTime(t: GoTime): string {
  return `${utcDateTime(t)}Z`;
}

/** metav1.MicroTime MarshalJSON: `t.UTC().Format(RFC3339Micro)` (truncates to microseconds). */
export function formatGoMicroTime(t: GoTime): string {
  return `${utcDateTime(t)}.${String(Math.floor(t.nanos / 1000)).padStart(6, '0')}Z`;
}

/** Now, as the server stamps creationTimestamp / managedFields time. */
export function goNow(): GoTime {
  const ms = Date.now();
  return { seconds: Math.floor(ms / 1000), nanos: (ms % 1000) * 1_000_000 };
}
