// A strict, bounded DER reader for the few structures the CA takes from callers (a CSR). It walks
// tag-length-value headers only: single-byte tags, definite minimal lengths, no element past its parent.
// Anything else is malformed. Decoding values (keys, signatures) is left to node:crypto.

export interface Tlv {
  readonly tag: number;
  /** Offset of the tag byte. */
  readonly start: number;
  /** Offset of the first value byte. */
  readonly valueStart: number;
  /** Offset just past the value. */
  readonly end: number;
}

export class DerError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DerError';
  }
}

/** Reads one element at `offset`; it must end by `limit`. */
export function readTlv(buf: Uint8Array, offset: number, limit: number = buf.length): Tlv {
  if (offset + 2 > limit) throw new DerError('truncated element');
  const tag = buf[offset] ?? 0;
  if ((tag & 0x1f) === 0x1f) throw new DerError('multi-byte tags are not used in a CSR');
  let len = buf[offset + 1] ?? 0;
  let p = offset + 2;
  if (len === 0x80) throw new DerError('indefinite length is not DER');
  if (len > 0x80) {
    const n = len & 0x7f;
    if (n > 3) throw new DerError('element too long');
    if (p + n > limit) throw new DerError('truncated length');
    len = 0;
    for (let i = 0; i < n; i++) len = len * 256 + (buf[p + i] ?? 0);
    if ((buf[p] ?? 0) === 0 || len < 0x80) throw new DerError('length is not minimally encoded');
    p += n;
  }
  if (p + len > limit) throw new DerError('element runs past its container');
  return { tag, start: offset, valueStart: p, end: p + len };
}

/** The elements directly inside a constructed element. */
export function children(buf: Uint8Array, parent: Tlv): Tlv[] {
  if ((parent.tag & 0x20) === 0) throw new DerError('expected a constructed element');
  const out: Tlv[] = [];
  let p = parent.valueStart;
  while (p < parent.end) {
    const t = readTlv(buf, p, parent.end);
    out.push(t);
    p = t.end;
    if (out.length > 64) throw new DerError('too many elements');
  }
  return out;
}

export const TAG = { INTEGER: 0x02, BIT_STRING: 0x03, NULL: 0x05, OID: 0x06, SEQUENCE: 0x30, CONTEXT_0: 0xa0 } as const;

export const bytes = (buf: Uint8Array, t: Tlv): Buffer => Buffer.from(buf.subarray(t.start, t.end));
export const value = (buf: Uint8Array, t: Tlv): Buffer => Buffer.from(buf.subarray(t.valueStart, t.end));
