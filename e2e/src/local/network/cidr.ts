// IPv4 CIDR arithmetic and address allocation (pure).

export interface Cidr {
  readonly text: string;
  /** Network address as an unsigned 32-bit number. */
  readonly network: number;
  readonly prefix: number;
}

export function ipToInt(ip: string): number {
  const parts = ip.split('.');
  if (parts.length !== 4) throw new Error(`"${ip}" is not an IPv4 address`);
  let n = 0;
  for (const p of parts) {
    if (!/^\d{1,3}$/.test(p) || Number(p) > 255) throw new Error(`"${ip}" is not an IPv4 address`);
    n = n * 256 + Number(p);
  }
  return n >>> 0;
}

export function intToIp(n: number): string {
  return [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.');
}

export function parseCidr(text: string): Cidr {
  const m = /^([\d.]+)\/(\d{1,2})$/.exec(text.trim());
  if (!m) throw new Error('expected an IPv4 CIDR like 10.244.0.0/16');
  const prefix = Number(m[2]);
  if (prefix < 8 || prefix > 30) throw new Error('prefix length must be between 8 and 30');
  const mask = (0xffffffff << (32 - prefix)) >>> 0;
  const network = (ipToInt(m[1]!) & mask) >>> 0;
  return { text: `${intToIp(network)}/${prefix}`, network, prefix };
}

export function size(c: Cidr): number {
  return 2 ** (32 - c.prefix);
}

export function contains(c: Cidr, ip: string): boolean {
  const mask = (0xffffffff << (32 - c.prefix)) >>> 0;
  return ((ipToInt(ip) & mask) >>> 0) === c.network;
}

/** First host address: the bridge's gateway address for the pod range. */
export function gateway(c: Cidr): string {
  return intToIp(c.network + 1);
}

/**
 * The lowest free host address of `c`, skipping network, broadcast and `reserved`.
 * Lowest-free (not round-robin) keeps addresses small and predictable in a demo; the trade-off is that a
 * deleted pod's address is reused at once, which is safe here because its netns is gone before release.
 */
export function allocate(c: Cidr, inUse: ReadonlySet<string>, reserved: ReadonlySet<string> = new Set()): string | undefined {
  const last = c.network + size(c) - 1;
  for (let n = c.network + 1; n < last; n++) {
    const ip = intToIp(n);
    if (!inUse.has(ip) && !reserved.has(ip)) return ip;
  }
  return undefined;
}
