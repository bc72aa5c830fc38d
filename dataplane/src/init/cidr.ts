// Parsing and normalising IPv4/IPv6 CIDRs for --exclude-outbound-cidrs. Host bits are cleared
// (10.1.2.3/8 → 10.0.0.0/8) so the dry-run shows what iptables-save will show after the apply.
import { isIPv4, isIPv6 } from 'node:net';

export type IpFamily = 4 | 6;

export interface Cidr {
  family: IpFamily;
  /** Normalised network address and prefix, e.g. `10.0.0.0/8`, `fd00::/8`. */
  text: string;
}

/** Parses `a.b.c.d[/n]` or `x::y[/n]`; a bare address is a /32 or /128. Returns an error text or a Cidr. */
export function parseCidr(input: string): Cidr | string {
  const slash = input.indexOf('/');
  const address = slash < 0 ? input : input.slice(0, slash);
  const prefixText = slash < 0 ? undefined : input.slice(slash + 1);
  const family: IpFamily | undefined = isIPv4(address) ? 4 : isIPv6(address) ? 6 : undefined;
  if (!family) return `"${input}" is not an IPv4 or IPv6 address or CIDR`;
  if (family === 6 && address.includes('%')) return `"${input}": a zone index (%) has no meaning in a CIDR`;
  const max = family === 4 ? 32 : 128;
  const prefix = prefixText === undefined ? max : /^\d{1,3}$/.test(prefixText) ? Number(prefixText) : NaN;
  if (!Number.isInteger(prefix) || prefix < 0 || prefix > max) {
    return `"${input}" has a bad prefix length (0-${max} for IPv${family})`;
  }
  const bits = family === 4 ? v4ToBigInt(address) : v6ToBigInt(address);
  const hostMask = (1n << BigInt(max - prefix)) - 1n;
  const network = bits & ~hostMask;
  return { family, text: `${family === 4 ? bigIntToV4(network) : bigIntToV6(network)}/${prefix}` };
}

function v4ToBigInt(address: string): bigint {
  return address.split('.').reduce((acc, octet) => (acc << 8n) | BigInt(Number(octet)), 0n);
}

function bigIntToV4(value: bigint): string {
  return [24n, 16n, 8n, 0n].map((shift) => String((value >> shift) & 0xffn)).join('.');
}

function v6ToBigInt(address: string): bigint {
  let text = address;
  // An embedded IPv4 tail (::ffff:1.2.3.4) becomes two hextets.
  const v4Tail = /(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (v4Tail) {
    const v4 = v4ToBigInt(v4Tail[1] as string);
    text = `${text.slice(0, v4Tail.index)}${(v4 >> 16n).toString(16)}:${(v4 & 0xffffn).toString(16)}`;
  }
  const [head, tail] = text.includes('::') ? text.split('::') : [text, undefined];
  const headParts = head ? head.split(':') : [];
  const tailParts = tail ? tail.split(':') : [];
  const zeros = tail === undefined ? [] : new Array<string>(8 - headParts.length - tailParts.length).fill('0');
  return [...headParts, ...zeros, ...tailParts].reduce((acc, h) => (acc << 16n) | BigInt(parseInt(h, 16)), 0n);
}

/** Compressed form as iptables-save prints it (longest run of zero hextets as ::). */
function bigIntToV6(value: bigint): string {
  const hextets = Array.from({ length: 8 }, (_, i) => Number((value >> BigInt(112 - 16 * i)) & 0xffffn));
  let bestStart = -1;
  let bestLen = 0;
  for (let i = 0; i < 8; ) {
    if (hextets[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && hextets[j] === 0) j++;
    if (j - i > bestLen && j - i > 1) {
      bestStart = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = hextets.map((h) => h.toString(16));
  if (bestStart < 0) return hex.join(':');
  return `${hex.slice(0, bestStart).join(':')}::${hex.slice(bestStart + bestLen).join(':')}`;
}
