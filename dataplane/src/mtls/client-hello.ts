// The ALPN protocols a TLS ClientHello offers, read from the first bytes of a connection (RFC 8446 §4.1.2,
// RFC 7301). The inbound sidecar uses it to tell a peer sidecar (skein/h1, skein/tcp) from an app's own
// TLS, which passes through untouched. Pure; imports nothing. Bounds: a ClientHello in one record of at
// most 16 KiB (every sidecar's is a few hundred bytes); anything else is "not ours".

export const ALPN_H1 = 'skein/h1';
export const ALPN_TCP = 'skein/tcp';
export type SkeinAlpn = typeof ALPN_H1 | typeof ALPN_TCP;

/** Largest TLS record (2^14) plus its 5-byte header. */
export const MAX_HELLO_RECORD = 16384 + 5;

/**
 * How many bytes the first TLS record of `buf` spans (header included), or undefined when `buf` does
 * not start a handshake record. Needs 5 bytes.
 */
export function firstRecordLength(buf: Buffer): number | 'need_more' | undefined {
  if (buf.length < 5) return buf.length > 0 && buf[0] !== 0x16 ? undefined : 'need_more';
  if (buf[0] !== 0x16 || buf[1] !== 0x03) return undefined;
  const length = buf.readUInt16BE(3);
  if (length === 0 || length > 16384) return undefined;
  return length + 5;
}

/**
 * The ALPN names of the ClientHello at the start of `buf`: 'need_more' until the first record is
 * complete, undefined when it is not a well-formed ClientHello, [] when it offers no ALPN.
 */
export function clientHelloAlpn(buf: Buffer): string[] | 'need_more' | undefined {
  const total = firstRecordLength(buf);
  if (total === undefined || total === 'need_more') return total;
  if (buf.length < total) return 'need_more';
  const r = new Reader(buf.subarray(5, total));
  if (r.u8() !== 0x01) return undefined; // handshake type client_hello
  const helloLength = r.u24();
  if (helloLength === undefined || helloLength > r.left()) return undefined; // a hello split over records: not ours
  r.skip(2 + 32); // legacy_version, random
  r.skip(r.u8() ?? -1); // legacy_session_id
  r.skip(r.u16() ?? -1); // cipher_suites
  r.skip(r.u8() ?? -1); // legacy_compression_methods
  if (r.failed) return undefined;
  if (r.left() === 0) return [];
  const extensionsLength = r.u16() ?? Infinity;
  const extensionsEnd = r.offset + extensionsLength;
  if (r.failed || extensionsEnd > r.length) return undefined;
  while (r.offset + 4 <= extensionsEnd) {
    const type = r.u16() as number;
    const length = r.u16() as number;
    if (r.offset + length > extensionsEnd) return undefined;
    if (type !== 16) { r.skip(length); continue; }
    const names: string[] = [];
    const listLength = r.u16() ?? Infinity;
    const listEnd = r.offset + listLength;
    if (listEnd > r.offset + length) return undefined;
    while (r.offset < listEnd) {
      const n = r.u8() ?? 0;
      if (n === 0 || r.offset + n > listEnd) return undefined;
      names.push(r.bytes(n).toString('latin1'));
    }
    return names;
  }
  return [];
}

/** The skein ALPN the hello offers, if any (skein/h1 first: a sidecar offers exactly one). */
export function skeinAlpn(names: readonly string[]): SkeinAlpn | undefined {
  if (names.includes(ALPN_H1)) return ALPN_H1;
  if (names.includes(ALPN_TCP)) return ALPN_TCP;
  return undefined;
}

class Reader {
  offset = 0;
  failed = false;
  constructor(private readonly buf: Buffer) {}
  get length(): number { return this.buf.length; }
  left(): number { return this.buf.length - this.offset; }
  skip(n: number): void {
    if (n < 0 || this.offset + n > this.buf.length) this.failed = true;
    else this.offset += n;
  }
  u8(): number | undefined { return this.take(1, () => this.buf.readUInt8(this.offset)); }
  u16(): number | undefined { return this.take(2, () => this.buf.readUInt16BE(this.offset)); }
  u24(): number | undefined { return this.take(3, () => this.buf.readUIntBE(this.offset, 3)); }
  bytes(n: number): Buffer { const b = this.buf.subarray(this.offset, this.offset + n); this.offset += n; return b; }
  private take(n: number, read: () => number): number | undefined {
    if (this.failed || this.offset + n > this.buf.length) { this.failed = true; return undefined; }
    const v = read();
    this.offset += n;
    return v;
  }
}
