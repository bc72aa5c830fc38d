// An RST for a proxied socket (N2: a reset travels as a reset). net.Socket.resetAndDestroy() works only on
// a TCP handle: a TLS socket (mTLS between sidecars; its handle is a TLSWrap) makes it throw
// ERR_INVALID_HANDLE_TYPE, which crashed the sidecar when a peer reset an mTLS connection. A TLS socket
// that wraps an accepted TCP socket resets that carrier; one that made its own connection is destroyed
// (the peer sees its close).
import type net from 'node:net';

export function resetSocket(socket: net.Socket): void {
  try {
    socket.resetAndDestroy();
    return;
  } catch {
    const carrier = (socket as net.Socket & { _parent?: net.Socket | null })._parent;
    if (carrier && !carrier.destroyed) {
      try { carrier.resetAndDestroy(); } catch { carrier.destroy(); }
    }
    socket.destroy();
  }
}
