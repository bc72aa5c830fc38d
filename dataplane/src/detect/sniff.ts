// Pure protocol classification of the first bytes a client sent. Biases towards availability (like
// linkerd's detect): anything not clearly HTTP/1, HTTP/2 or TLS is forwarded as opaque TCP, untouched.

export type Sniffed = 'http1' | 'h2' | 'tls' | 'opaque' | 'need_more';

/** The HTTP/2 client connection preface (RFC 9113 §3.4). */
export const H2_PREFACE = Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n', 'latin1');

/** Longest request line prefix we wait for before giving up on HTTP/1 (Node's header limit is 16 KiB). */
export const MAX_SNIFF_BYTES = 16 * 1024;

const MAX_METHOD = 32;
const VERSION = Buffer.from('HTTP/1.', 'latin1');

export function sniff(buf: Buffer): Sniffed {
  if (buf.length === 0) return 'need_more';
  // H2 prior knowledge: the preface starts like an HTTP/1 request line ("PRI * HTTP/2.0"), so test it first.
  const h2Len = Math.min(buf.length, H2_PREFACE.length);
  if (buf.subarray(0, h2Len).equals(H2_PREFACE.subarray(0, h2Len))) {
    return h2Len === H2_PREFACE.length ? 'h2' : 'need_more';
  }
  // TLS record header: handshake (0x16), legacy version major 3.
  if (buf[0] === 0x16) {
    if (buf.length < 2) return 'need_more';
    return buf[1] === 0x03 ? 'tls' : 'opaque';
  }
  return sniffHttp1(buf);
}

/**
 * HTTP/1 when the bytes start with `METHOD SP TARGET SP HTTP/1.x` followed by anything. The line ending
 * is deliberately NOT checked: a malformed request (bare CR, bare LF…) must reach Node's strict parser,
 * which answers 400, instead of being passed through as opaque bytes to the app.
 */
function sniffHttp1(buf: Buffer): Sniffed {
  let i = 0;
  while (i < buf.length && i <= MAX_METHOD && isTokenChar(buf[i] as number)) i++;
  if (i === buf.length) return i <= MAX_METHOD ? 'need_more' : 'opaque';
  if (i === 0 || buf[i] !== 0x20) return 'opaque';
  i++;
  const targetStart = i;
  while (i < buf.length && isTargetChar(buf[i] as number)) i++;
  if (i === buf.length) return buf.length < MAX_SNIFF_BYTES ? 'need_more' : 'opaque';
  if (i === targetStart || buf[i] !== 0x20) return 'opaque';
  i++;
  const rest = buf.subarray(i, i + VERSION.length + 2);
  const known = Math.min(rest.length, VERSION.length);
  if (!rest.subarray(0, known).equals(VERSION.subarray(0, known))) return 'opaque';
  if (rest.length < VERSION.length + 1) return 'need_more';
  const minor = rest[VERSION.length] as number;
  if (minor !== 0x30 && minor !== 0x31) return 'opaque';
  // One byte after the version (normally CR) shows the version token ended.
  return rest.length < VERSION.length + 2 ? 'need_more' : 'http1';
}

// RFC 9110 tchar.
function isTokenChar(c: number): boolean {
  return (c >= 0x61 && c <= 0x7a) || (c >= 0x41 && c <= 0x5a) || (c >= 0x30 && c <= 0x39) ||
    "!#$%&'*+-.^_`|~".includes(String.fromCharCode(c));
}

function isTargetChar(c: number): boolean {
  return c > 0x20 && c !== 0x7f;
}
