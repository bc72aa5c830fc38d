// How the proxy opens a connection to an upstream for its HTTP pools: plain TCP with noDelay, the
// source address the direction needs (inbound dials the app from 127.0.0.6 / ::6, see inbound/index.ts)
// and --connect-timeout. It is undici's `connect` hook: for a meshed peer (target.secure) it is the mTLS
// connect of mtls/ (our certificate, the SPIFFE check of the peer, ALPN skein/h1) and nothing else changes.
import net from 'node:net';
import type { buildConnector } from 'undici';
import { UpstreamConnectTimeoutError } from '../errors.js';
import { ALPN_H1 } from '../mtls/client-hello.js';
import type { Target } from '../tcp/forward.js';

/** One connector per upstream pool: the target is fixed, so nothing is parsed per connection. */
export function upstreamConnector(target: Target, connectTimeoutMs: number): buildConnector.connector {
  const secure = target.secure;
  if (secure) {
    // A meshed peer: mTLS with ALPN skein/h1; the pool keeps the verified connection alive for reuse.
    return (_opts, callback) => {
      secure.mtls.connect(target, secure.expect, ALPN_H1, connectTimeoutMs).then(
        (socket) => callback(null, socket), (err: Error) => callback(err, null));
    };
  }
  const name = `${target.host}:${target.port}`;
  const options: net.TcpNetConnectOpts = {
    host: target.host, port: target.port, noDelay: true,
    ...(target.localAddress ? { localAddress: target.localAddress } : {}),
  };
  return (_opts, callback) => {
    const socket = net.connect(options);
    let settled = false;
    const timer = setTimeout(() => socket.destroy(new UpstreamConnectTimeoutError(name, connectTimeoutMs)), connectTimeoutMs);
    const onError = (err: Error): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      callback(err, null);
    };
    socket.once('error', onError);
    socket.once('connect', () => {
      settled = true;
      clearTimeout(timer);
      socket.off('error', onError);
      callback(null, socket);
    });
  };
}
