// Outbound with a control plane (15001): discovery says where a connection goes (discovery.route), and
// a meshed endpoint (one with a SPIFFE ID) is reached over mTLS: HTTP through the pooled, kept-alive
// skein/h1 connections of the HTTP path (target.secure → http/connect.ts), anything else over one
// skein/tcp connection of its own. An endpoint without an identity gets plaintext; a destination not
// in the snapshot is passthrough, as standalone.
//
// Server-speaks-first with no delay and no configuration: unless the route says HTTP or this
// destination was recently seen speaking HTTP (learned.ts), the upstream is dialled at once, in parallel
// with detection, and whoever speaks first decides: the server's bytes first → opaque, forwarded over
// the pre-dialled connection (its banner reaches the client without waiting for --detect-timeout); the
// client's bytes first → detection as usual (HTTP → the pool path, the pre-dialled connection closed).
import net from 'node:net';
import { detect } from '../detect/index.js';
import { errorCode, outcomeLabel, UpstreamConnectTimeoutError } from '../errors.js';
import { holdConnection, requestBalancerFor } from '../balance/outbound.js';
import { ALPN_TCP } from '../mtls/index.js';
import type { Accepted } from '../proxy/accept.js';
import type { CaptureListener, PipelineDeps } from '../proxy/listener.js';
import { forwardAccepted, recordDetection, type MeshedStep } from '../proxy/pipeline.js';
import type { Target } from '../tcp/forward.js';
import { LearnedProtocols } from './learned.js';
import { resetSocket } from '../transport/reset.js';

const direction = 'outbound';

export function meshedOutbound(deps: PipelineDeps & Required<Pick<PipelineDeps, 'mesh'>>): MeshedStep {
  const { config, metrics, mesh } = deps;
  const learned = new LearnedProtocols();
  return async (accepted: Accepted, listener: CaptureListener) => {
    const { socket, dst } = accepted;
    const route = mesh.discovery.current()?.route(dst, socket.remoteAddress) ?? { kind: 'passthrough' as const, host: dst.address, port: dst.port };
    const target: Target = { host: route.host, port: route.port };
    let conn = accepted;
    if (route.kind === 'endpoint') {
      if (route.spiffeId !== '') target.secure = { mtls: mesh.mtls, expect: route.spiffeId };
      conn = {
        ...accepted, log: accepted.log.child({
          upstream: `${route.host}:${route.port}`, ...(route.spiffeId ? { peer: route.spiffeId } : {}), ...(route.service ? { service: route.service } : {}),
        }),
      };
      if (route.spiffeId !== '') accepted.summary.peer = route.spiffeId;
    }
    // HTTP to a Service: every request picks its endpoint (balance/http.ts); TCP stays on `route`.
    const balanceOf = (): { balance?: NonNullable<ReturnType<typeof requestBalancerFor>> } => {
      const balance = route.kind === 'endpoint' && route.service ? requestBalancerFor(mesh.discovery, dst, socket.remoteAddress, mesh.mtls, accepted.log, route) : undefined;
      return balance ? { balance } : {};
    };
    const protocol = route.kind === 'endpoint' ? route.protocol : 'detect';
    if (protocol === 'tcp' || config.opaquePorts.has(dst.port)) {
      recordDetection(deps, direction, accepted, { protocol: 'opaque', reason: 'opaque_port' });
      holdConnection(route, socket);
      return forwardAccepted(deps, direction, conn, socket, { target });
    }
    const key = `${dst.address}:${dst.port}`;
    if (protocol === 'http' || learned.isHttp(key)) {
      const detected = await detect(socket, { timeoutMs: config.detectTimeoutMs, opaque: false });
      recordDetection(deps, direction, accepted, detected);
      if (socket.destroyed) return;
      if (detected.protocol === 'http1') return listener.http.accept(socket, { target, log: conn.log, ...balanceOf() });
      learned.forget(key);
      holdConnection(route, socket);
      return forwardAccepted(deps, direction, conn, socket, { target, head: detected.leftover });
    }
    const dial = preDial(target, config.connectTimeoutMs);
    const detected = await detect(socket, { timeoutMs: config.detectTimeoutMs, opaque: false, serverSpoke: dial.spoke });
    recordDetection(deps, direction, accepted, detected);
    if (socket.destroyed) return dial.cancel();
    if (detected.protocol === 'http1') {
      dial.cancel();
      learned.markHttp(key);
      return listener.http.accept(socket, { target, log: conn.log, ...balanceOf() });
    }
    let upstream: net.Socket;
    try {
      upstream = await dial.socket;
      if (upstream.destroyed) throw Object.assign(new Error('the upstream closed before forwarding started'), { code: 'ECONNRESET' });
    } catch (err) {
      // As without the pre-dial: the client is reset, as the kernel would have done.
      const outcome = errorCode(err);
      accepted.summary.outcome = outcome;
      metrics.errors.inc({ direction, code: outcomeLabel(outcome) });
      conn.log.debug({ err: outcome }, 'upstream error');
      if (!socket.destroyed) resetSocket(socket);
      return;
    }
    dial.release();
    holdConnection(route, socket);
    return forwardAccepted(deps, direction, conn, socket, { target, head: detected.leftover, upstream });
  };
}

interface PreDial {
  /** The connected (for a meshed peer: verified mTLS skein/tcp) upstream. */
  socket: Promise<net.Socket>;
  /** Resolves when the upstream sent its first bytes, closed or failed after connecting. */
  spoke: Promise<void>;
  /** Stops watching for the server's first bytes (they stay in the socket's buffer). */
  release(): void;
  /** Not needed (the client spoke HTTP or left): closed at once or as soon as it connects. */
  cancel(): void;
}

function preDial(target: Target, timeoutMs: number): PreDial {
  let cancelled = false;
  let onSpoke!: () => void;
  const spoke = new Promise<void>((resolve) => { onSpoke = resolve; });
  let connected: net.Socket | undefined;
  const watch = {
    data: (chunk: Buffer): void => {
      // Back in the buffer for the forwarder, which writes what the upstream buffered first.
      connected?.pause();
      connected?.unshift(chunk);
      stopWatching();
      onSpoke();
    },
    end: (): void => onSpoke(),
  };
  const stopWatching = (): void => {
    if (!connected) return;
    connected.off('data', watch.data);
    connected.off('end', watch.end);
    connected.off('close', watch.end);
    connected.pause();
  };
  const socket = (target.secure
    ? target.secure.mtls.connect(target, target.secure.expect, ALPN_TCP, timeoutMs)
    : connectPlain(target, timeoutMs)
  ).then((s) => {
    s.on('error', () => undefined);
    if (cancelled) {
      s.destroy();
      return s;
    }
    connected = s;
    s.on('data', watch.data);
    s.once('end', watch.end);
    s.once('close', watch.end);
    return s;
  });
  socket.catch(() => undefined);
  return {
    socket, spoke,
    release: stopWatching,
    cancel: () => {
      cancelled = true;
      stopWatching();
      connected?.destroy();
    },
  };
}

function connectPlain(target: Target, timeoutMs: number): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({
      host: target.host, port: target.port, allowHalfOpen: true, noDelay: true,
      ...(target.localAddress ? { localAddress: target.localAddress } : {}),
    });
    const timer = setTimeout(() => socket.destroy(new UpstreamConnectTimeoutError(`${target.host}:${target.port}`, timeoutMs)), timeoutMs);
    socket.once('error', (err) => { clearTimeout(timer); reject(err); });
    socket.once('connect', () => { clearTimeout(timer); resolve(socket); });
  });
}
