// IPv4 and IPv6 CIDR arithmetic and address allocation (pure). Addresses are bigints internally so
// both families share one code path; text is canonical (IPv6 per RFC 5952: lower case, longest zero
// run compressed), so it compares equal to what `ip` and the Kubernetes API print.
import { isIPv4, isIPv6 } from 'node:net';

export type Family = 4 | 6;

export interface Cidr {
  readonly text: string;
  readonly family: Family;
  /** Network address. */
  readonly network: bigint;
  readonly prefix: number;
}

const BITS: Record<Family, number> = { 4: 32, 6: 128 };

export function familyOf(ip: string): Family {
  if (isIPv4(ip)) return 4;
  if (isIPv6(ip)) return 6;
  throw new Error(`"${ip}" is not an IP address`);
}

export function ipToBig(ip: string): bigint {
  if (isIPv4(ip)) return ip.split('.').reduce((n, p) => (n << 8n) | BigInt(Number(p)), 0n);
  if (!isIPv6(ip)) throw new Error(`"${ip}" is not an IP address`);
  let text = ip.toLowerCase();
  // An embedded IPv4 tail (::ffff:1.2.3.4) becomes two groups.
  const v4 = /(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (v4) {
    const n = ipToBig(v4[1]!);
    text = `${text.slice(0, v4.index)}${(n >> 16n).toString(16)}:${(n & 0xffffn).toString(16)}`;
  }
  const [head, tail] = text.includes('::') ? text.split('::') as [string, string] : [text, undefined];
  const left = head ? head.split(':') : [];
  const right = tail ? tail.split(':') : [];
  const groups = tail === undefined ? left : [...left, ...Array<string>(8 - left.length - right.length).fill('0'), ...right];
  return groups.reduce((n, g) => (n << 16n) | BigInt(parseInt(g, 16)), 0n);
}

export function bigToIp(n: bigint, family: Family): string {
  if (family === 4) return [24n, 16n, 8n, 0n].map((s) => Number((n >> s) & 255n)).join('.');
  const groups = Array.from({ length: 8 }, (_, i) => Number((n >> BigInt(112 - 16 * i)) & 0xffffn));
  // RFC 5952: compress the longest run of two or more zero groups (the first of equal runs).
  let best = { at: -1, len: 1 };
  for (let i = 0; i < 8;) {
    if (groups[i] !== 0) { i++; continue; }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > best.len) best = { at: i, len: j - i };
    i = j;
  }
  const hex = groups.map((g) => g.toString(16));
  if (best.at < 0) return hex.join(':');
  return `${hex.slice(0, best.at).join(':')}::${hex.slice(best.at + best.len).join(':')}`;
}

/** An IP address in canonical text (so `fd00:0:0::5` and `fd00::5` compare equal). */
export function canonicalIp(ip: string): string {
  return bigToIp(ipToBig(ip), familyOf(ip));
}

function mask(family: Family, prefix: number): bigint {
  const bits = BigInt(BITS[family]);
  return ((1n << bits) - 1n) ^ ((1n << (bits - BigInt(prefix))) - 1n);
}

export function parseCidr(text: string): Cidr {
  const m = /^([0-9a-fA-F:.]+)\/(\d{1,3})$/.exec(text.trim());
  if (!m) throw new Error('expected a CIDR like 10.244.0.0/16 or fd00:10:244::/64');
  const family = (() => { try { return familyOf(m[1]!); } catch { return undefined; } })();
  if (!family) throw new Error(`"${m[1]}" is not an IPv4 or IPv6 address`);
  const prefix = Number(m[2]);
  const [min, max] = family === 4 ? [8, 30] : [8, 126];
  if (prefix < min || prefix > max) throw new Error(`IPv${family} prefix length must be between ${min} and ${max}`);
  const network = ipToBig(m[1]!) & mask(family, prefix);
  return { text: `${bigToIp(network, family)}/${prefix}`, family, network, prefix };
}

/** A comma list of ranges, as Kubernetes takes them (`10.244.0.0/16,fd00:10:244::/64`). */
export function parseCidrList(text: string): Cidr[] {
  return text.split(',').map((t) => t.trim()).filter(Boolean).map(parseCidr);
}

export function size(c: Cidr): bigint {
  return 1n << BigInt(BITS[c.family] - c.prefix);
}

export function contains(c: Cidr, ip: string): boolean {
  let n: bigint;
  try {
    if (familyOf(ip) !== c.family) return false;
    n = ipToBig(ip);
  } catch {
    return false;
  }
  return (n & mask(c.family, c.prefix)) === c.network;
}

export function overlaps(a: Cidr, b: Cidr): boolean {
  if (a.family !== b.family) return false;
  const m = mask(a.family, Math.min(a.prefix, b.prefix));
  return (a.network & m) === (b.network & m);
}

/** First host address: the bridge's gateway address for the pod range. */
export function gateway(c: Cidr): string {
  return bigToIp(c.network + 1n, c.family);
}

/**
 * The lowest free host address of `c`, skipping the network address, the last address (IPv4's
 * broadcast; IPv6 keeps the same rule for symmetry) and `reserved`. Lowest-free (not round-robin) keeps
 * addresses small and predictable in a demo; the trade-off is that a deleted pod's address is reused at
 * once, which is safe here because its netns is gone before release. `inUse` holds canonical text.
 */
export function allocate(c: Cidr, inUse: ReadonlySet<string>, reserved: ReadonlySet<string> = new Set()): string | undefined {
  const last = c.network + size(c) - 1n;
  for (let n = c.network + 1n; n < last; n++) {
    const ip = bigToIp(n, c.family);
    if (!inUse.has(ip) && !reserved.has(ip)) return ip;
  }
  return undefined;
}
