// Does this network namespace have IPv6 (for --ipv6 auto)? Read from /proc/net/if_inet6, which shows
// the addresses of the namespace the reading process is in (the init container runs in the pod's).
import { readFile } from 'node:fs/promises';

/**
 * True when any non-loopback interface has a global-scope address (scope 0x00; Linux gives ULA fd00::/8
 * global scope too). Link-local fe80:: addresses alone do not count: every interface has one, even in
 * an IPv4-only cluster.
 */
export function hasGlobalIpv6(ifInet6: string): boolean {
  return ifInet6.split('\n').some((line) => {
    const fields = line.trim().split(/\s+/);
    if (fields.length < 6) return false;
    const [, , , scope, , name] = fields;
    return name !== 'lo' && parseInt(scope as string, 16) === 0;
  });
}

/** Reads the file; absent (IPv6 disabled in the kernel) means no IPv6. */
export async function detectIpv6(path = '/proc/net/if_inet6'): Promise<boolean> {
  try {
    return hasGlobalIpv6(await readFile(path, 'utf8'));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw err;
  }
}
