// L4 forwarding: bytes both ways between the accepted client socket and a new upstream socket.
//  - each direction is a Pump (pump.ts): reads into a reused buffer (no Buffer allocated per read,
//    read-buffer.ts) and writes it to the other socket; backpressure: reading stops while a write is
//    pending, so the proxy holds at most one buffer (≤ 256 KiB) per direction (N4);
//  - half-close: allowHalfOpen on both sockets; a side's 'end' becomes end() (a FIN) on the other side
//    only, the other direction keeps flowing (N1, envoy#2067);
//  - RST: an ECONNRESET on one side becomes resetAndDestroy() (an RST) on the other, after what was
//    already queued for that side has been flushed (N2);
//  - idle timeout on both sockets (Node re-arms it on every read and write: a field update, no timer work).
import net from 'node:net';
import type { Logger } from 'pino';
import { errorCode, UpstreamConnectTimeoutError } from '../errors.js';
import { ALPN_TCP } from '../mtls/client-hello.js';
import type { Mtls } from '../mtls/index.js';
import { Pump } from './pump.js';
import { readIntoBuffer } from './read-buffer.js';
import { resetSocket } from '../transport/reset.js';

/** Where to connect; `localAddress` is the source to bind (inbound: 127.0.0.6, see inbound/index.ts). */
export interface Target {
  host: string;
  port: number;
  localAddress?: string;
  /** A meshed peer: mTLS to it (mtls/), whose certificate must carry `expect`. */
  secure?: { mtls: Mtls; expect: string };
}

export interface TcpForwardOptions {
  target: Target;
  /** Bytes read from the client before the forwarder took over (detection leftover, a rebuilt request head). */
  head?: Buffer;
  idleTimeoutMs: number;
  connectTimeoutMs: number;
  log: Logger;
  /** Receives the outcome as soon as it is known (before the sockets' 'close'), for the connection's summary line. */
  report?: { outcome?: string };
  /**
   * An upstream already connected (a pre-dialled one, maybe with bytes the server sent first in its
   * buffer): used instead of connecting to `target`.
   */
  upstream?: net.Socket;
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
  if (options.upstream) return forwardConnected(client, options.upstream, options);
  const secure = options.target.secure;
  if (secure) {
    // mTLS to the peer sidecar (ALPN skein/tcp): forwarding starts once the peer's identity is verified.
    return secure.mtls.connect(options.target, secure.expect, ALPN_TCP, options.connectTimeoutMs).then(
      (upstream) => forwardConnected(client, upstream, options),
      (err: Error) => {
        const outcome = errorCode(err);
        if (options.report) options.report.outcome = outcome;
        carryFailure(err, client);
        return { bytesIn: client.bytesRead, bytesOut: client.bytesWritten, outcome };
      });
  }
  return new Promise((resolve) => {
    let outcome = 'ok';
    const setOutcome = (code: string): void => {
      if (outcome !== 'ok') return;
      outcome = code;
      if (options.report) options.report.outcome = code;
    };
    // Upstream → client: the upstream socket reads into its pump's buffer from the start (net's `onread`;
    // its first read happens after 'connect', when `toClient.src` is set).
    const toClient = new Pump(client);
    const upstream = net.connect({
      host: options.target.host, port: options.target.port, allowHalfOpen: true, noDelay: true,
      onread: { buffer: toClient.next, callback: toClient.onRead },
      ...(options.target.localAddress ? { localAddress: options.target.localAddress } : {}),
    });
    toClient.src = upstream;
    client.setNoDelay(true);
    let closed = 0;
    let toUpstream: Pump | undefined;
    const onClose = (): void => {
      if (++closed < 2) return;
      toClient.release();
      toUpstream?.release();
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
      toUpstream = startClientToUpstream(client, upstream);
      upstream.once('end', () => client.end());
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

/**
 * The same as forwardTcp's connected phase for an upstream that is already connected (pre-dialled, or a
 * verified mTLS connection): both directions start at once, each draining what its source already
 * buffered (the server's banner, the client's peeked bytes) before reading into its pump.
 */
function forwardConnected(client: net.Socket, upstream: net.Socket, options: TcpForwardOptions): Promise<TcpResult> {
  return new Promise((resolve) => {
    let outcome = 'ok';
    const setOutcome = (code: string): void => {
      if (outcome !== 'ok') return;
      outcome = code;
      if (options.report) options.report.outcome = code;
    };
    client.setNoDelay(true);
    client.on('error', (err) => {
      setOutcome(`client_${errorCode(err)}`);
      carryFailure(err, upstream);
    });
    upstream.on('error', (err) => {
      setOutcome(errorCode(err));
      options.log.debug({ err: errorCode(err) }, 'upstream error');
      carryFailure(err, client);
    });
    if (options.head && options.head.length > 0) upstream.write(options.head);
    const toUpstream = startClientToUpstream(client, upstream);
    const toClient = startClientToUpstream(upstream, client);
    let closed = 0;
    const onClose = (): void => {
      if (++closed < 2) return;
      toClient?.release();
      toUpstream?.release();
      resolve({ bytesIn: client.bytesRead, bytesOut: client.bytesWritten, outcome });
    };
    // `closed`: 'close' was already emitted (an upstream that failed while pre-dialled).
    for (const socket of [client, upstream]) {
      if (socket.closed) closed++;
      else socket.once('close', onClose);
    }
    for (const socket of [client, upstream]) {
      socket.setTimeout(options.idleTimeoutMs, () => {
        setOutcome('idle_timeout');
        client.destroy();
        upstream.destroy();
      });
    }
    if (closed >= 2) onClose();
  });
}

/**
 * src → dst (named for its first use, client → upstream). What detection handed back (unshift) or the
 * HTTP parser left is still in the source's Readable buffer: it goes first, then the source reads into
 * its pump's buffer. Without the internals read-buffer.ts relies on, the stream path (pipe) does the
 * same job.
 */
function startClientToUpstream(client: net.Socket, upstream: net.Socket): Pump | undefined {
  for (let chunk: Buffer | null; client.readableLength > 0 && (chunk = client.read() as Buffer | null) !== null;) upstream.write(chunk);
  const toUpstream = new Pump(upstream);
  toUpstream.src = client;
  if (!readIntoBuffer(client, toUpstream.next(), toUpstream.onRead, toUpstream.next)) {
    client.pipe(upstream);
    client.resume();
    return undefined;
  }
  if (client.readableEnded) upstream.end();
  else client.once('end', () => upstream.end());
  client.resume();
  return toUpstream;
}

function carryFailure(err: Error, other: net.Socket): void {
  if (other.destroyed) return;
  const code = errorCode(err);
  const rst = code === 'ECONNRESET' || code === 'ECONNREFUSED' || code === 'upstream_connect_timeout' ||
    code === 'ETIMEDOUT' || code === 'EHOSTUNREACH';
  // A side that already got our FIN (a complete answer) or is still connecting is simply closed.
  if (!rst || other.connecting || other.writableEnded) return void other.destroy();
  if (other.writableLength === 0) return void resetSocket(other);
  // Flush what the peer already sent us before the RST, so a complete answer is not truncated by us.
  other.write(Buffer.alloc(0), () => resetSocket(other));
}
