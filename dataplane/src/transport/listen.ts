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
 * Stops accepting new connections now. net.Server#close's callback waits for every existing connection,
 * which is the drain's business, so it is not awaited here.
 */
export function stopListening(server: net.Server): void {
  if (server.listening) server.close();
}
