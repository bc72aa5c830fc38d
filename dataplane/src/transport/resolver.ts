// How an accepted connection learns where it was going. The real resolver reads SO_ORIGINAL_DST
// through the native addon (transport/orig-dst.ts); loadOrigDstResolver() loads the addon at start-up so
// a missing build fails the process with the fix in the message, not every connection later. Tests on
// loopback without iptables inject a resolver returning a fixed target.
import type net from 'node:net';
import { OrigDstError } from '../errors.js';
import { loadOrigDstAddon, originalDestination } from './orig-dst.js';

export interface Destination { address: string; port: number; family: 4 | 6 }

export type OrigDstResolver = (socket: net.Socket) => Destination;

/** Loads the SO_ORIGINAL_DST resolver. Throws OrigDstError when the addon cannot be loaded. */
export function loadOrigDstResolver(): OrigDstResolver {
  try {
    loadOrigDstAddon();
  } catch (err) {
    throw new OrigDstError((err as Error).message, { cause: err });
  }
  return (socket) => {
    try {
      return originalDestination(socket);
    } catch (err) {
      throw new OrigDstError((err as Error).message, { cause: err });
    }
  };
}

/** A resolver that sends everything to one target: tests, and running the proxy without iptables. */
export function fixedResolver(target: Destination): OrigDstResolver {
  return () => target;
}
