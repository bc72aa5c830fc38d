// Load shedding at accept (reliability L4): above --max-connections open connections on one listener, a
// new connection is reset (RST) right away, before any byte is read or any upstream dialled, and counted.
// The limit is per listener: the outbound and inbound listeners shed independently.
import type net from 'node:net';
import { resetSocket } from '../transport/reset.js';

/** True when `socket` was shed (reset): the caller must not handle it. */
export function shedOverLimit(socket: net.Socket, open: number, limit: number): boolean {
  if (limit <= 0 || open < limit) return false;
  socket.on('error', () => undefined);
  resetSocket(socket);
  return true;
}
