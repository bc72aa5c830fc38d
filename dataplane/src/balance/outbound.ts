// The outbound side's use of the balancers (outbound/mesh.ts): a RequestBalancer for an HTTP connection
// to a Service, and the in-flight count of an opaque TCP connection (least-request counts connections).
import type net from 'node:net';
import type { Logger } from 'pino';
import type { BalancedRoute, DiscoveryProvider, OutboundRoute } from '../discovery/index.js';
import type { Mtls } from '../mtls/index.js';
import type { Target } from '../tcp/forward.js';
import type { Destination } from '../transport/resolver.js';
import { RequestBalancer } from './http.js';
import { release, start } from './types.js';

/** The Target of an endpoint: mTLS to a meshed one, plaintext else. */
export function endpointTarget(route: BalancedRoute, mtls: Mtls): Target {
  return route.spiffeId !== '' ? { host: route.host, port: route.port, secure: { mtls, expect: route.spiffeId } } : { host: route.host, port: route.port };
}

/** The logger fields outbound/mesh.ts gives a connection to an endpoint. */
export function endpointLog(log: Logger, route: BalancedRoute): Logger {
  return log.child({
    upstream: `${route.host}:${route.port}`, ...(route.spiffeId ? { peer: route.spiffeId } : {}), ...(route.service ? { service: route.service } : {}),
  });
}

/** Per-request balancing for an HTTP connection to dst, undefined when dst is no Service port. */
export function requestBalancerFor(
  discovery: DiscoveryProvider, dst: Destination, sourceIp: string | undefined, mtls: Mtls, log: Logger, first?: OutboundRoute,
): RequestBalancer<BalancedRoute> | undefined {
  if (!discovery.current()?.balancer?.(dst)) return undefined;
  const balancer = new RequestBalancer<BalancedRoute>(
    () => discovery.current()?.balancer?.(dst), sourceIp,
    (e) => ({ target: endpointTarget(e, mtls), log: endpointLog(log, e) }),
  );
  // The retry budget is per Service port (the destination VIP:port names it).
  balancer.retryKey = `${dst.address}:${dst.port}`;
  if (first?.kind === 'endpoint' && 'load' in first) balancer.first = first as BalancedRoute;
  return balancer;
}

/** Counts an opaque connection to a Service endpoint in flight until the client socket closes. */
export function holdConnection(route: OutboundRoute, socket: net.Socket): void {
  if (route.kind !== 'endpoint' || !('load' in route)) return;
  const endpoint = route as BalancedRoute;
  start(endpoint);
  socket.once('close', () => release(endpoint));
}
