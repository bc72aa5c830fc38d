// L4 forwarding: bytes both ways between the accepted client socket and a new upstream socket.
//  - backpressure: Readable#pipe pauses the source while the destination's write() returns false and
//    resumes it on 'drain', so the proxy buffers at most about one highWaterMark per direction (N4);
//  - half-close: allowHalfOpen on both sockets and pipe's end() turn a FIN in one direction into a FIN in
//    that direction only, the other keeps flowing (N1, envoy#2067);
//  - RST: an ECONNRESET on one side becomes resetAndDestroy() (an RST) on the other, after what was
//    already queued for that side has been flushed (N2);
//  - idle timeout on both sockets.
import net from 'node:net';
import type { Logger } from 'pino';
import { errorCode, UpstreamConnectTimeoutError } from '../errors.js';

/** Where to connect; `localAddress` is the source to bind (inbound: 127.0.0.6, see inbound/index.ts). */
export interface Target { host: string; port: number; localAddress?: string }

export interface TcpForwardOptions {
  target: Target;
  /** Bytes read from the client before the forwarder took over (detection leftover, a rebuilt request head). */
  head?: Buffer;
  idleTimeoutMs: number;
  connectTimeoutMs: number;
  log: Logger;
  /** Receives the outcome as soon as it is known (before the sockets' 'close'), for the connection's summary line. */
  report?: { outcome?: string };
}

export interface TcpResult {
  /** Bytes read from the client / written to the client. */
  bytesIn: number;
  bytesOut: number;
  /** `ok`, or the stable code of what ended the connection (ECONNREFUSED, ECONNRESET, idle_timeout…). */
  outcome: string;
}

/** Forwards until both directions are done; never rejects (errors end up in `outcome`). */
export function forwardTcp(client: net.Socket, options: TcpForwardOptions): Promise<TcpResult> {
  return new Promise((resolve) => {
    let outcome = 'ok';
    const setOutcome = (code: string): void => {
      if (outcome !== 'ok') return;
      outcome = code;
      if (options.report) options.report.outcome = code;
    };
    const upstream = net.connect({
      host: options.target.host, port: options.target.port, allowHalfOpen: true, noDelay: true,
      ...(options.target.localAddress ? { localAddress: options.target.localAddress } : {}),
    });
    client.setNoDelay(true);
    let closed = 0;
    const onClose = (): void => {
      if (++closed < 2) return;
      resolve({ bytesIn: client.bytesRead, bytesOut: client.bytesWritten, outcome });
    };
    client.once('close', onClose);
    upstream.once('close', onClose);

    const connectTimer = setTimeout(() => {
      upstream.destroy(new UpstreamConnectTimeoutError(`${options.target.host}:${options.target.port}`, options.connectTimeoutMs));
    }, options.connectTimeoutMs);

    upstream.once('connect', () => {
      clearTimeout(connectTimer);
      if (options.head && options.head.length > 0) upstream.write(options.head);
      client.pipe(upstream);
      upstream.pipe(client);
      client.resume();
      for (const socket of [client, upstream]) {
        socket.setTimeout(options.idleTimeoutMs, () => {
          setOutcome('idle_timeout');
          client.destroy();
          upstream.destroy();
        });
      }
    });

    // Errors: the side that failed is already destroyed by Node; carry its failure to the other side.
    client.on('error', (err) => {
      clearTimeout(connectTimer);
      setOutcome(`client_${errorCode(err)}`);
      carryFailure(err, upstream);
    });
    upstream.on('error', (err) => {
      clearTimeout(connectTimer);
      setOutcome(errorCode(err));
      options.log.debug({ err: errorCode(err) }, 'upstream error');
      // Before connect (refused, timeout) the client has sent nothing we could answer: reset it, as the
      // kernel would have if nothing listened on the original destination.
      carryFailure(err, client);
    });
  });
}

function carryFailure(err: Error, other: net.Socket): void {
  if (other.destroyed) return;
  const code = errorCode(err);
  const rst = code === 'ECONNRESET' || code === 'ECONNREFUSED' || code === 'upstream_connect_timeout' ||
    code === 'ETIMEDOUT' || code === 'EHOSTUNREACH';
  // A side that already got our FIN (a complete answer) or is still connecting is simply closed.
  if (!rst || other.connecting || other.writableEnded) return void other.destroy();
  if (other.writableLength === 0) return void other.resetAndDestroy();
  // Flush what the peer already sent us before the RST, so a complete answer is not truncated by us.
  other.write(Buffer.alloc(0), () => other.resetAndDestroy());
}
