// The accept step shared by both directions: learn the original destination, refuse loops, and give the
// connection its id, child logger and closing summary line (CONVENTIONS §7: one line per connection).
import type net from 'node:net';
import type { Logger } from 'pino';
import { errorCode, LoopError } from '../errors.js';
import type { Direction, Metrics, Protocol } from '../metrics/index.js';
import { isLocalAddress, unmapIPv4 } from '../transport/local.js';
import type { Destination, OrigDstResolver } from '../transport/resolver.js';
import { resetSocket } from '../transport/reset.js';

/** What the next steps need to know about an accepted connection. */
export interface Accepted {
  socket: net.Socket;
  dst: Destination;
  log: Logger;
  /** Fills the fields of the closing log line (protocol, bytes, outcome). */
  summary: { proto?: Protocol; outcome?: string; detect?: string; peer?: string; /** The policy that allowed or denied an opaque connection (policy/). */ policy?: string };
}

export interface AcceptDeps {
  direction: Direction;
  resolver: OrigDstResolver;
  /** The proxy's own listener ports: a connection whose original destination is one of them is a loop. */
  ownPorts: () => ReadonlySet<number>;
  log: Logger;
  metrics: Metrics;
  connections: Set<net.Socket>;
}

let nextConnId = 1;

/** Returns the accepted connection, or undefined after refusing (and closing) it. */
export function acceptConnection(socket: net.Socket, deps: AcceptDeps): Accepted | undefined {
  const { direction, metrics } = deps;
  const conn = nextConnId++;
  const src = `${unmapIPv4(socket.remoteAddress ?? '?')}:${socket.remotePort ?? 0}`;
  const started = Date.now();
  deps.connections.add(socket);
  metrics.activeConnections.inc({ direction });
  socket.setNoDelay(true);
  // Errors are reported through the summary line; without a listener an ECONNRESET would crash the process.
  socket.on('error', () => undefined);
  let dst: Destination;
  try {
    dst = deps.resolver(socket);
    if (deps.ownPorts().has(dst.port) && isLocalAddress(dst.address)) throw new LoopError(dst.address, dst.port);
  } catch (err) {
    const reason = errorCode(err) === 'proxy_loop' ? 'proxy_loop' : 'orig_dst_failed';
    metrics.refused.inc({ direction, reason });
    deps.log.warn({ conn, src, err: (err as Error).message }, 'connection refused');
    socket.once('close', () => { deps.connections.delete(socket); metrics.activeConnections.dec({ direction }); });
    resetSocket(socket);
    return undefined;
  }
  const log = deps.log.child({ conn, src, dst: `${dst.address}:${dst.port}` });
  const summary: Accepted['summary'] = {};
  socket.once('close', (hadError) => {
    deps.connections.delete(socket);
    metrics.activeConnections.dec({ direction });
    metrics.bytes.inc({ direction, flow: 'rx' }, socket.bytesRead);
    metrics.bytes.inc({ direction, flow: 'tx' }, socket.bytesWritten);
    log.info({
      proto: summary.proto ?? 'unknown', detect: summary.detect, peer: summary.peer, policy: summary.policy, bytesIn: socket.bytesRead, bytesOut: socket.bytesWritten,
      durationMs: Date.now() - started, outcome: summary.outcome ?? (hadError ? 'error' : 'ok'),
    }, 'connection closed');
  });
  return { socket, dst, log, summary };
}
