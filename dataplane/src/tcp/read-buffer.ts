// Reading a socket into a buffer of our own instead of a fresh one per read (May import node:net only).
//
// Node's stream path allocates a new 64 KiB ArrayBuffer for every read and wraps it in a Buffer that the
// Readable machinery queues and emits. For a proxy that only copies bytes from one socket to another,
// that allocation is most of its user-space CPU and of its garbage (bulk TCP profile: 15–22 % of the
// busy time in GC, RSS ~35 MB above the same forwarder with a reused buffer). net.Socket's documented
// `onread` option (Node ≥ 12) reads into a caller-supplied buffer and calls a function with the number
// of bytes read; 'end', 'error', 'close', pause() and resume() behave as usual. It can be given only
// when the socket is constructed, and net.Server constructs the accepted sockets itself, so for those
// `readIntoBuffer` sets the three fields the constructor sets for `onread` and hands the buffer to the
// handle, exactly as net.js's initSocketHandle does. Those fields are internal: they are looked up once
// by name and the caller falls back to the stream path (pipe) when they are missing (a Node release
// that changed them), so a new Node makes the proxy slower, not wrong. Node 20 is pinned (DESIGN.md).
import net from 'node:net';

/** Receives `n` bytes at the start of `buffer`; returning false stops reading (as pause() does). */
export type ReadCallback = (n: number, buffer: Buffer) => boolean;

interface OnreadFields { buffer: symbol; callback: symbol; generator: symbol }

const fields = ((): OnreadFields | undefined => {
  const probe = new net.Socket();
  const symbols = Object.getOwnPropertySymbols(probe);
  probe.destroy();
  const find = (name: string): symbol | undefined => symbols.find((s) => s.description === name);
  const buffer = find('kBuffer');
  const callback = find('kBufferCb');
  const generator = find('kBufferGen');
  return buffer && callback && generator ? { buffer, callback, generator } : undefined;
})();

interface UserBufferHandle { useUserBuffer?: (buffer: Uint8Array) => void }

/**
 * Switches an accepted (or any connected) socket to reading into `first`; after every read Node calls
 * `next()` for the buffer of the following read (it may return the same one). Returns false, changing
 * nothing, when this Node does not have the fields this relies on. Whatever is already in the socket's
 * Readable buffer must be taken out (socket.read()) before, as it is no longer emitted.
 */
export function readIntoBuffer(socket: net.Socket, first: Buffer, callback: ReadCallback, next: () => Buffer): boolean {
  const handle = (socket as unknown as { _handle?: UserBufferHandle | null })._handle;
  if (!fields || !handle || typeof handle.useUserBuffer !== 'function') return false;
  const target = socket as unknown as Record<symbol, unknown>;
  target[fields.buffer] = first;
  target[fields.callback] = callback;
  target[fields.generator] = next;
  handle.useUserBuffer(first);
  return true;
}

/** Whether `readIntoBuffer` can work on this Node (for tests and the start-up log). */
export const canReadIntoBuffer = fields !== undefined;
