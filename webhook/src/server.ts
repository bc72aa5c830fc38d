// The two TLS listeners of skein-cp: the admission webhook (HTTPS, express app from admission/) and the
// gRPC server (identity + discovery when the mesh services are given, and standard gRPC health). Both take their
// certificate from a `ServingMaterial` and swap it in place on rotation, without dropping connections.
import { createServer as createHttpsServer, type Server as HttpsServer } from 'node:https';
import type { RequestListener, Server as HttpServer, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import * as grpc from '@grpc/grpc-js';
import { DiscoveryService, HealthService, HealthCheckResponse_ServingStatus, IdentityService, type DiscoveryServer, type IdentityServer } from '@skein/api';
import { ListenError } from './errors.js';
import type { ServingMaterial } from './tls/material.js';
import { ServingCertProvider } from './tls/grpc-provider.js';
import { healthServiceImpl, type GrpcHealth } from './health/grpc-health.js';
import { CERTIFY_SERVICE_DEFINITION } from './identity/certify/index.js';
import { DISCOVERY_SERVICE_DEFINITION } from './discovery/index.js';

/** Node's defaults are generous; the API server gives a webhook at most 30 s and we answer in ms. */
const WEBHOOK_REQUEST_TIMEOUT_MS = 30_000;
const WEBHOOK_HEADERS_TIMEOUT_MS = 10_000;
const WEBHOOK_KEEPALIVE_MS = 65_000; // longer than the API server's idle pool timeout, to reuse connections

function tlsOptions(m: ServingMaterial): { cert: string; key: string; minVersion: 'TLSv1.2' } {
  return { cert: m.certPem + (m.certPem.endsWith('\n') ? '' : '\n'), key: m.keyPem, minVersion: 'TLSv1.2' };
}

export interface WebhookListener {
  readonly server: HttpsServer;
  readonly port: number;
  rotate(m: ServingMaterial): void;
  /** Stops accepting, closes idle keep-alive connections, waits for in-flight requests (up to graceMs). */
  close(graceMs: number): Promise<void>;
}

export async function startWebhookServer(app: RequestListener, m: ServingMaterial, host: string, port: number): Promise<WebhookListener> {
  // Node's close() only closes connections that are idle at that moment; a keep-alive connection whose
  // request is in flight would stay open after its response until keepAliveTimeout. So during a drain
  // every response says `Connection: close`, and Node ends the socket once it is sent.
  let draining = false;
  const inflight = new Set<ServerResponse>();
  const handler: RequestListener = (req, res) => {
    inflight.add(res);
    res.on('close', () => inflight.delete(res));
    if (draining) res.setHeader('Connection', 'close');
    app(req, res);
  };
  const server = createHttpsServer({ ...tlsOptions(m), maxHeaderSize: 16 * 1024 }, handler);
  server.requestTimeout = WEBHOOK_REQUEST_TIMEOUT_MS;
  server.headersTimeout = WEBHOOK_HEADERS_TIMEOUT_MS;
  server.keepAliveTimeout = WEBHOOK_KEEPALIVE_MS;
  const actual = await listen(server, host, port, 'webhook');
  return {
    server,
    port: actual,
    rotate: (next) => server.setSecureContext(tlsOptions(next)),
    close: (graceMs) => {
      draining = true;
      for (const res of inflight) {
        if (!res.headersSent) res.setHeader('Connection', 'close');
        else res.on('finish', () => res.socket?.end());
      }
      return closeHttpServer(server, graceMs);
    },
  };
}

/** Listens on host:port; resolves with the actual port (port 0 = any free one). The one listen of skein-cp's HTTP servers. */
export function listen(server: HttpsServer | HttpServer, host: string, port: number, name: 'webhook' | 'health'): Promise<number> {
  return new Promise((resolve, reject) => {
    const onError = (err: NodeJS.ErrnoException): void => {
      reject(new ListenError(name, `cannot listen on ${host}:${port}: ${err.code ?? err.message}; choose another port with --${name}-port (or --bind-address) or stop the process that holds it`, { cause: err }));
    };
    server.once('error', onError);
    server.listen({ host, port }, () => {
      server.off('error', onError);
      resolve((server.address() as AddressInfo).port);
    });
  });
}

export function closeHttpServer(server: HttpsServer | HttpServer, graceMs: number): Promise<void> {
  return new Promise((resolve) => {
    const force = setTimeout(() => server.closeAllConnections(), graceMs);
    force.unref();
    // close() stops accepting and (Node >= 19) closes idle keep-alive connections; busy ones finish their
    // request, get `Connection: close`, and end. The callback runs when the last connection is gone.
    server.close(() => {
      clearTimeout(force);
      resolve();
    });
    server.closeIdleConnections();
  });
}

export interface GrpcListener {
  readonly server: grpc.Server;
  readonly port: number;
  readonly health: GrpcHealth;
  rotate(m: ServingMaterial): void;
  close(graceMs: number): Promise<void>;
}

function notImplemented(method: string): grpc.handleUnaryCall<unknown, unknown> {
  return (_call, callback) => {
    callback({ code: grpc.status.UNIMPLEMENTED, details: `skein-cp: ${method} is not implemented yet` });
  };
}

function notImplementedStream(method: string): grpc.handleServerStreamingCall<unknown, unknown> {
  return (call) => {
    call.emit('error', { code: grpc.status.UNIMPLEMENTED, details: `skein-cp: ${method} is not implemented yet` });
  };
}

/** The mesh's own services; absent ones answer UNIMPLEMENTED (and report NOT_SERVING in gRPC health). */
export interface MeshServices { identity?: IdentityServer; discovery?: DiscoveryServer }

export async function startGrpcServer(m: ServingMaterial, host: string, port: number, mesh: MeshServices = {}): Promise<GrpcListener> {
  const provider = new ServingCertProvider(m);
  // 1 MiB: grpc-js refuses more with RESOURCE_EXHAUSTED; Certify counts and refuses what is over its own
  // (smaller) limit, so that an oversized request shows up in its refusal metrics.
  const server = new grpc.Server({ 'grpc.max_receive_message_length': 1024 * 1024 });
  const health = healthServiceImpl();
  server.addService(HealthService, health.impl);
  // Certify's own definition decodes nothing over its size limit (identity/certify/service.ts).
  if (mesh.identity) server.addService(CERTIFY_SERVICE_DEFINITION, mesh.identity);
  else server.addService(IdentityService, { certify: notImplemented('skein.v1.Identity/Certify') });
  // Discovery's own definition encodes the shared part of a snapshot once per build, not once per stream.
  if (mesh.discovery) server.addService(DISCOVERY_SERVICE_DEFINITION, mesh.discovery);
  else server.addService(DiscoveryService, { watch: notImplementedStream('skein.v1.Discovery/Watch') });
  if (mesh.identity) health.set('skein.v1.Identity', HealthCheckResponse_ServingStatus.SERVING);
  if (mesh.discovery) health.set('skein.v1.Discovery', HealthCheckResponse_ServingStatus.SERVING);
  const creds = grpc.experimental.createCertificateProviderServerCredentials(provider, null, false);
  const hostPort = host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
  const actual = await new Promise<number>((resolve, reject) => {
    server.bindAsync(hostPort, creds, (err, bound) => {
      if (err) reject(new ListenError('grpc', `cannot listen on ${hostPort}: ${err.message}; choose another port with --grpc-port (or --bind-address) or stop the process that holds it`, { cause: err }));
      else resolve(bound);
    });
  });
  return {
    server,
    port: actual,
    health,
    rotate: (next) => provider.update(next),
    close: (graceMs) => new Promise<void>((resolve) => {
      health.shutdown();
      const force = setTimeout(() => { server.forceShutdown(); resolve(); }, graceMs);
      force.unref();
      server.tryShutdown(() => { clearTimeout(force); resolve(); });
    }),
  };
}
