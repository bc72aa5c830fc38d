// How an accepted connection learns where it was going. The real resolver reads SO_ORIGINAL_DST through
// H4's native addon (transport/orig-dst.ts), loaded lazily so that a missing addon fails the first
// connection with a clear error instead of the whole process at import time. Tests on loopback without
// iptables inject a resolver returning a fixed target.
import type net from 'node:net';
import { OrigDstError } from '../errors.js';

export interface Destination { address: string; port: number; family: 4 | 6 }

export type OrigDstResolver = (socket: net.Socket) => Destination;

type OrigDstModule = { originalDestination(socket: net.Socket): Destination };

/** Loads the SO_ORIGINAL_DST resolver. Rejects with OrigDstError when the addon cannot be loaded. */
export async function loadOrigDstResolver(): Promise<OrigDstResolver> {
  // A variable specifier keeps this module compiling and importable when orig-dst (another part) is absent.
  const specifier = './orig-dst.js';
  let mod: OrigDstModule;
  try {
    mod = (await import(specifier)) as OrigDstModule;
  } catch (err) {
    throw new OrigDstError('cannot load the SO_ORIGINAL_DST addon (dataplane/src/transport/orig-dst); ' +
      'build it with `npm run build:native -w dataplane`', { cause: err });
  }
  return (socket) => {
    try {
      return mod.originalDestination(socket);
    } catch (err) {
      throw new OrigDstError(`cannot read the original destination: ${(err as Error).message}`, { cause: err });
    }
  };
}

/** A resolver that sends everything to one target: tests, and running the proxy without iptables. */
export function fixedResolver(target: Destination): OrigDstResolver {
  return () => target;
}
