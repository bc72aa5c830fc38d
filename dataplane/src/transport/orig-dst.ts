// Original destination of a connection captured by iptables REDIRECT (SO_ORIGINAL_DST), through the
// small N-API addon in dataplane/native/orig_dst.c (build/Release/orig_dst.node).
import { createRequire } from 'node:module';
import { isIPv4 } from 'node:net';
import type { Socket } from 'node:net';
import { OrigDstLookupError, OrigDstUnavailableError } from '../errors.js';

export interface OriginalDestination {
  address: string;
  port: number;
  family: 4 | 6;
}

interface OrigDstAddon {
  getOriginalDst(fd: number, family: 4 | 6): { address: string; port: number };
}

export { OrigDstUnavailableError, OrigDstLookupError } from '../errors.js';

// From dist/transport/orig-dst.js (and src/transport/ under a TS loader) up to the workspace root.
const ADDON_PATH = '../../build/Release/orig_dst.node';

let addon: OrigDstAddon | undefined;

/** Loads the addon once; throws OrigDstUnavailableError naming the fix. Call at start-up to fail early. */
export function loadOrigDstAddon(): void {
  if (addon) return;
  try {
    addon = createRequire(import.meta.url)(ADDON_PATH) as OrigDstAddon;
  } catch (err) {
    throw new OrigDstUnavailableError(ADDON_PATH, err);
  }
}

// `_handle.fd` is undocumented but stable for years and "unlikely to be removed" (nodejs/node#8974);
// N-API cannot reach libuv's uv_tcp_t (nodejs/help#1424), so the fd is the only way in. It is -1 on
// Windows and once the socket is destroyed.
interface SocketWithHandle {
  _handle?: { fd?: number } | null;
}

function socketFd(socket: Socket): number {
  const fd = (socket as unknown as SocketWithHandle)._handle?.fd;
  if (typeof fd !== 'number' || fd < 0) {
    throw new OrigDstLookupError('EBADF', 'original destination: the socket has no file descriptor (closed?)');
  }
  return fd;
}

/**
 * Family of the conntrack entry, which is what SO_ORIGINAL_DST reads: an IPv4 client accepted by a
 * dual-stack `::` listener has local address `::ffff:a.b.c.d`, and its entry is IPv4 (SOL_IP).
 */
function conntrackFamily(localAddress: string | undefined): 4 | 6 {
  if (!localAddress) return 4;
  if (isIPv4(localAddress)) return 4;
  if (localAddress.toLowerCase().startsWith('::ffff:') && isIPv4(localAddress.slice(7))) return 4;
  return 6;
}

/** The destination the client dialled before iptables redirected it to this listener. */
export function originalDestination(socket: Socket): OriginalDestination {
  loadOrigDstAddon();
  const fd = socketFd(socket);
  const family = conntrackFamily(socket.localAddress);
  try {
    const { address, port } = (addon as OrigDstAddon).getOriginalDst(fd, family);
    return { address, port, family };
  } catch (err) {
    const code = (err as { code?: unknown }).code;
    throw new OrigDstLookupError(
      typeof code === 'string' ? code : 'EUNKNOWN',
      `original destination: ${err instanceof Error ? err.message : String(err)}`,
    );
  }
}
