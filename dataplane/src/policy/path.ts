// Path normalisation for authorization (RFC 3986 §6, Envoy's normalize_path + merge_slashes): the
// inbound sidecar decides on the normalised path and the app receives that same path, so what was
// authorised is what the app sees. Pure; imports nothing.
//  - percent-encoded unreserved characters are decoded (`%6F` → `o`, `%2E` → `.`), other escapes are
//    kept with upper-case hex (`%3a` → `%3A`), never decoded twice (`%252F` stays `%252F`);
//  - duplicate slashes are merged, then `.` and `..` segments removed (`..` never climbs above `/`);
//  - `;params` are removed from every segment (Tomcat reads `/admin;x` as `/admin`, others as a
//    different resource: neither may change a decision, so the app never gets them);
//  - a `#fragment` is removed (it is the client's business and is never sent upstream);
//  - ambiguous paths are refused rather than guessed: `%2F` / `%5C` (an encoded `/` or `\`), a raw `\`,
//    an invalid escape, NUL or another control character (raw or encoded), percent-encoded bytes that are
//    not UTF-8, a `.`/`..` segment carrying params (`..;x`, which Tomcat resolves and others do not).
// Raw characters outside pchar (`"<>^\`{|}[]` and bytes ≥ 0x80, which Node hands over as latin1) are
// percent-encoded. The query is passed through unchanged: it plays no part in a decision.

export type NormalisedTarget =
  | { ok: true; /** The path the decision is made on (no query). */ path: string; /** path + `?query`, what the app receives. */ target: string }
  | { ok: false; problem: PathProblem };

export type PathProblem =
  | 'encoded_slash' | 'backslash' | 'bad_escape' | 'control_char' | 'not_utf8' | 'dot_segment_params' | 'not_origin_form';

const HEX = '0123456789ABCDEF';

/** 1 = unreserved (ALPHA DIGIT - . _ ~), 2 = other pchar or '/' kept as is, 0 = must be encoded or refused. */
const CLASS = new Uint8Array(128);
for (let c = 0x30; c <= 0x39; c++) CLASS[c] = 1;
for (let c = 0x41; c <= 0x5a; c++) CLASS[c] = 1;
for (let c = 0x61; c <= 0x7a; c++) CLASS[c] = 1;
for (const ch of '-._~') CLASS[ch.charCodeAt(0)] = 1;
for (const ch of "!$&'()*+,=:@/") CLASS[ch.charCodeAt(0)] = 2;

function hexValue(c: number): number {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  if (c >= 0x41 && c <= 0x46) return c - 0x37;
  if (c >= 0x61 && c <= 0x66) return c - 0x57;
  return -1;
}

/**
 * True when `path` (no query, no fragment) is already in normal form: only unreserved and plain pchar
 * characters, no `%`, no `;`, no empty, `.` or `..` segment. The common case costs one scan, no allocation.
 */
function isCanonical(path: string): boolean {
  let prevSlash = false;
  for (let i = 0; i < path.length; i++) {
    const c = path.charCodeAt(i);
    if (c >= 128 || CLASS[c] === 0) return false;
    if (c === 0x2f) {
      if (prevSlash) return false;
      prevSlash = true;
      continue;
    }
    if (c === 0x2e && prevSlash) {
      // "/." or "/.." followed by "/" or the end is a dot segment.
      const n = path.charCodeAt(i + 1);
      if (Number.isNaN(n) || n === 0x2f) return false;
      if (n === 0x2e) {
        const m = path.charCodeAt(i + 2);
        if (Number.isNaN(m) || m === 0x2f) return false;
      }
    }
    prevSlash = false;
  }
  return true;
}

interface CharState { high: boolean; problem: PathProblem | undefined }

function fail(state: CharState, problem: PathProblem): undefined {
  state.problem = problem;
  return undefined;
}

/**
 * Normalises one segment's characters (no '/' in it): escapes decoded or upper-cased, raw characters
 * outside pchar encoded. Returns undefined with state.problem set when the segment is ambiguous;
 * state.high records that non-ASCII bytes were seen (for the UTF-8 check).
 */
function normaliseChars(raw: string, state: CharState): string | undefined {
  let out = '';
  for (let i = 0; i < raw.length; i++) {
    const c = raw.charCodeAt(i);
    if (c === 0x25 /* % */) {
      const h = hexValue(raw.charCodeAt(i + 1));
      const l = hexValue(raw.charCodeAt(i + 2));
      if (h < 0 || l < 0) return fail(state, 'bad_escape');
      const b = h * 16 + l;
      i += 2;
      if (b === 0x2f || b === 0x5c) return fail(state, 'encoded_slash');
      if (b < 0x20 || b === 0x7f) return fail(state, 'control_char');
      if (b < 128 && CLASS[b] === 1) { out += String.fromCharCode(b); continue; }
      if (b >= 128) state.high = true;
      out += `%${HEX[h]}${HEX[l]}`;
      continue;
    }
    if (c === 0x5c /* \ */) return fail(state, 'backslash');
    if (c < 0x21 || c === 0x7f) return fail(state, 'control_char');
    if (c >= 128) {
      if (c > 0xff) return fail(state, 'not_utf8');
      state.high = true;
      out += `%${HEX[c >> 4]}${HEX[c & 15]}`;
      continue;
    }
    if (CLASS[c] === 0 && c !== 0x3b /* ; handled by the caller */) {
      out += `%${HEX[c >> 4]}${HEX[c & 15]}`;
      continue;
    }
    out += raw[i];
  }
  return out;
}

/** Whether the percent-encoded bytes of `path` (already normalised) decode as UTF-8. */
function isUtf8Encoded(path: string): boolean {
  const bytes: number[] = [];
  for (let i = 0; i < path.length; i++) {
    const c = path.charCodeAt(i);
    if (c === 0x25) {
      bytes.push(hexValue(path.charCodeAt(i + 1)) * 16 + hexValue(path.charCodeAt(i + 2)));
      i += 2;
    } else {
      bytes.push(c);
    }
  }
  try {
    new TextDecoder('utf-8', { fatal: true }).decode(Uint8Array.from(bytes));
    return true;
  } catch {
    return false;
  }
}

/** Normalises an origin-form path (starts with '/', no query, no fragment). */
export function normalisePath(path: string): { ok: true; path: string } | { ok: false; problem: PathProblem } {
  if (path.charCodeAt(0) !== 0x2f) return { ok: false, problem: 'not_origin_form' };
  if (isCanonical(path)) return { ok: true, path };
  const state: CharState = { high: false, problem: undefined };
  const out: string[] = [];
  const raw = path.split('/');
  let trailing = false;
  for (let i = 1; i < raw.length; i++) {
    const segment = raw[i] as string;
    const semi = segment.indexOf(';');
    state.high = false;
    const name = normaliseChars(semi < 0 ? segment : segment.slice(0, semi), state);
    // Checked per segment (a UTF-8 sequence never spans a '/'), also in a segment that `..` removes.
    if (name !== undefined && state.high && !isUtf8Encoded(name)) return { ok: false, problem: 'not_utf8' };
    if (semi >= 0) {
      // The params are checked as the name is (a control character or a bad escape is refused anywhere).
      if (normaliseChars(segment.slice(semi + 1).replaceAll(';', ''), state) === undefined) return { ok: false, problem: state.problem as PathProblem };
    }
    if (name === undefined) return { ok: false, problem: state.problem as PathProblem };
    const last = i === raw.length - 1;
    if (name === '.' || name === '..') {
      if (semi >= 0) return { ok: false, problem: 'dot_segment_params' };
      if (name === '..') out.pop();
      if (last) trailing = true;
      continue;
    }
    if (name === '') {
      // Duplicate slashes are merged; a final empty segment is the trailing slash.
      if (last) trailing = true;
      continue;
    }
    out.push(name);
  }
  let result = `/${out.join('/')}`;
  if (trailing && out.length > 0) result += '/';
  return { ok: true, path: result };
}

/**
 * Normalises a request target as Node's parser hands it over (req.url): origin-form (`/p?q#f`) or
 * absolute-form (`http://host/p?q`, reduced to its path and query). Other forms are not paths.
 */
export function normaliseTarget(url: string): NormalisedTarget {
  let target = url;
  const hash = target.indexOf('#');
  if (hash >= 0) target = target.slice(0, hash);
  if (target.charCodeAt(0) !== 0x2f) {
    const m = /^[A-Za-z][A-Za-z0-9+.-]*:\/\/[^/?]*/.exec(target);
    if (!m) return { ok: false, problem: 'not_origin_form' };
    target = target.slice(m[0].length);
    if (target === '' || target.charCodeAt(0) === 0x3f) target = `/${target}`;
  }
  const q = target.indexOf('?');
  const rawPath = q < 0 ? target : target.slice(0, q);
  const query = q < 0 ? '' : target.slice(q);
  for (let i = 0; i < query.length; i++) {
    const c = query.charCodeAt(i);
    if (c < 0x21 || c === 0x7f) return { ok: false, problem: 'control_char' };
  }
  const n = normalisePath(rawPath);
  if (!n.ok) return n;
  return { ok: true, path: n.path, target: n.path === rawPath && target === url ? url : n.path + query };
}
