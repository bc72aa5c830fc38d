// Is an address one of this host's own? Used to refuse connections whose original destination is the
// proxy's own port (a redirect loop: e.g. someone dialling 15001 directly, or the proxy UID not excluded).
import os from 'node:os';
import net from 'node:net';

/** Strips the IPv4-mapped IPv6 prefix (`::ffff:10.0.0.1` → `10.0.0.1`). */
export function unmapIPv4(address: string): string {
  return address.toLowerCase().startsWith('::ffff:') && net.isIPv4(address.slice(7)) ? address.slice(7) : address;
}

/** 127.0.0.0/8, ::1 and their IPv4-mapped forms. */
export function isLoopback(address: string | undefined): boolean {
  if (!address) return false;
  const plain = unmapIPv4(address);
  if (net.isIPv4(plain)) return plain.startsWith('127.');
  return plain === '::1';
}

/** True for loopback, the unspecified address, and any address on a local interface. */
export function isLocalAddress(address: string): boolean {
  const plain = unmapIPv4(address);
  if (isLoopback(plain) || plain === '0.0.0.0' || plain === '::') return true;
  // Interfaces are read per call: cheap (a syscall) and only on the refuse-check path of a new connection.
  for (const list of Object.values(os.networkInterfaces())) {
    for (const info of list ?? []) if (info.address === plain) return true;
  }
  return false;
}
