// Listening helpers shared by every server of the proxy.
import type net from 'node:net';

export interface BoundAddress { address: string; port: number }

/** Listens and resolves with the bound address (port 0 → the port the OS picked). */
export function listen(server: net.Server, port: number, host: string): Promise<BoundAddress> {
  return new Promise((resolve, reject) => {
    const onError = (err: Error): void => reject(err);
    server.once('error', onError);
    server.listen({ port, host, exclusive: true }, () => {
      server.off('error', onError);
      const address = server.address() as net.AddressInfo;
      resolve({ address: address.address, port: address.port });
    });
  });
}

/**
 * Listens on `host`; `::` (the capture listeners' default) is dual-stack, so IPv4 connections arrive as
 * `::ffff:a.b.c.d` and IPv6 ones redirected by ip6tables find a listener too. Where the kernel has no
 * IPv6 (`::` cannot be bound) it falls back to 0.0.0.0, which is all such a pod can receive anyway.
 */
export async function listenDualStack(server: net.Server, port: number, host: string): Promise<BoundAddress> {
  try {
    return await listen(server, port, host);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (host !== '::' || (code !== 'EAFNOSUPPORT' && code !== 'EADDRNOTAVAIL')) throw err;
    return listen(server, port, '0.0.0.0');
  }
}

/**
 * Stops accepting new connections now. net.Server#close's callback waits for every existing connection,
 * which is the drain's business, so it is not awaited here.
 */
export function stopListening(server: net.Server): void {
  if (server.listening) server.close();
}
