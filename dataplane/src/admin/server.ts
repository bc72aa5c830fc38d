// Admin server on 127.0.0.1:15000 (never the pod IP). Defence in depth: a caller whose address is not
// loopback gets 403 even if the server was bound wider (reliability D1, linkerd admin); a request with
// an Origin header (a browser page) gets 403; state-changing endpoints are POST-only (D2); no CORS header
// is ever sent. May import config, log, metrics, lifecycle state.
import http from 'node:http';
import type { Logger } from 'pino';
import type { RunConfig } from '../config/index.js';
import { isLogLevel, type LogControl } from '../log/index.js';
import { statsSnapshot, type Metrics } from '../metrics/index.js';
import { isLoopback } from '../transport/local.js';
import type { BoundAddress } from '../transport/listen.js';
import type { ProxyState } from '../lifecycle/state.js';
import { certificateSummary, certsReport, meshDump, type MeshProviders } from './mesh.js';
import { policyDump } from '../policy/index.js';

export interface AdminDeps {
  config: RunConfig;
  state: ProxyState;
  metrics: Metrics;
  logs: LogControl;
  log: Logger;
  listeners: () => Record<string, BoundAddress | undefined>;
  /** POST /drain: stop taking inbound work, keep running. */
  drain: () => void;
  /** POST /quitquitquit: shut down now (gracefully: listeners closed, logs flushed). */
  quit: () => void;
  /** The mesh client's providers (SKEIN_CP_ADDRESS set); undefined = standalone. Read on every request. */
  mesh?: () => MeshProviders | undefined;
}

type Handler = (req: http.IncomingMessage, url: URL, res: http.ServerResponse) => void | Promise<void>;
interface Route { GET?: Handler; POST?: Handler }

export function createAdminServer(deps: AdminDeps): http.Server {
  const routes = new Map<string, Route>([
    ['/ready', { GET: (_req, _url, res) => readiness(deps.state, res) }],
    ['/live', { GET: (_req, _url, res) => text(res, 200, 'live\n') }],
    ['/stats', { GET: async (_req, _url, res) => json(res, 200, { state: deps.state.name(), ...(await statsSnapshot(deps.metrics)) }) }],
    ['/metrics', { GET: async (_req, _url, res) => prometheus(deps.metrics, res) }],
    ['/config_dump', { GET: (_req, _url, res) => json(res, 200, configDump(deps)) }],
    ['/certs', { GET: (_req, _url, res) => json(res, 200, certsReport(deps.mesh?.())) }],
    ['/logging', {
      GET: (_req, _url, res) => json(res, 200, { level: deps.logs.level() }),
      POST: (_req, url, res) => {
        const level = url.searchParams.get('level') ?? '';
        if (!isLogLevel(level)) return text(res, 400, 'level must be one of fatal|error|warn|info|debug|trace|silent\n');
        deps.logs.setLevel(level);
        deps.log.warn({ level }, 'log level changed');
        json(res, 200, { level });
      },
    }],
    ['/drain', { POST: (_req, _url, res) => { deps.drain(); text(res, 202, 'draining\n'); } }],
    ['/quitquitquit', { POST: (_req, _url, res) => { res.once('finish', () => deps.quit()); text(res, 200, 'quitting\n'); } }],
  ]);
  const server = http.createServer({ requestTimeout: 10_000, headersTimeout: 5_000 }, (req, res) => {
    void dispatch(routes, req, res, deps.log);
  });
  server.on('clientError', (_err, socket) => socket.destroy());
  return server;
}

async function dispatch(routes: Map<string, Route>, req: http.IncomingMessage, res: http.ServerResponse, log: Logger): Promise<void> {
  if (!isLoopback(req.socket.remoteAddress)) {
    log.warn({ remote: req.socket.remoteAddress, path: (req.url ?? '').slice(0, 100) }, 'admin request from a non-loopback address refused');
    return text(res, 403, 'the admin endpoint only answers loopback callers\n');
  }
  if (req.headers.origin !== undefined) return text(res, 403, 'cross-origin requests are refused\n');
  const url = new URL(req.url ?? '/', 'http://admin.invalid');
  const route = routes.get(url.pathname);
  if (!route) return text(res, 404, 'not found\n');
  const handler = req.method === 'GET' || req.method === 'HEAD' ? route.GET : req.method === 'POST' ? route.POST : undefined;
  if (!handler) {
    res.setHeader('allow', Object.keys(route).join(', '));
    return text(res, 405, 'method not allowed\n');
  }
  try {
    await handler(req, url, res);
  } catch (err) {
    log.error({ err: (err as Error).message, path: url.pathname }, 'admin handler failed');
    if (!res.headersSent) text(res, 500, 'internal error\n');
  }
}

export function readiness(state: ProxyState, res: http.ServerResponse): void {
  if (state.isReady()) text(res, 200, 'ready\n');
  else text(res, 503, `${state.notReadyReason()}\n`);
}

export async function prometheus(metrics: Metrics, res: http.ServerResponse): Promise<void> {
  const body = await metrics.registry.metrics();
  res.writeHead(200, { 'content-type': metrics.registry.contentType, 'content-length': Buffer.byteLength(body) });
  res.end(body);
}

/** What the proxy runs with. Never keys or tokens: only their file paths and certificate metadata. */
function configDump(deps: AdminDeps): unknown {
  const { config } = deps;
  const mesh = deps.mesh?.();
  const cert = mesh?.identity.current();
  const services = mesh?.discovery.current()?.snapshot.services ?? [];
  return {
    state: deps.state.name(),
    listeners: deps.listeners(),
    flags: {
      detectTimeoutMs: config.detectTimeoutMs, drainTimeoutMs: config.drainTimeoutMs, drainMinMs: config.drainMinMs,
      idleTimeoutMs: config.idleTimeoutMs,
      connectTimeoutMs: config.connectTimeoutMs, responseTimeoutMs: config.responseTimeoutMs,
      maxSocketsPerUpstream: config.maxSocketsPerUpstream, maxUpstreamPools: config.maxUpstreamPools, logLevel: deps.logs.level(),
    },
    opaquePorts: [...config.opaquePorts].sort((a, b) => a - b),
    pod: { ...config.pod, podIP: config.podIP },
    controlPlane: config.controlPlane,
    probes: Object.fromEntries([...config.probes].map(([c, kinds]) => [c, Object.fromEntries(kinds)])),
    certTtlSeconds: config.certTtlSeconds,
    mesh: meshDump(mesh),
    endpoints: services.flatMap((svc) => svc.endpoints.map((e) => ({
      service: `${svc.namespace}/${svc.name}`, ip: e.ip, ports: e.ports, ready: e.ready, spiffeId: e.spiffeId,
    }))),
    // The compiled TrafficPermissions (policy/dump.ts); standalone there are none.
    policies: mesh ? policyDump(mesh.discovery.current()) : [],
    certificates: cert ? [certificateSummary(cert)] : [],
  };
}

export function text(res: http.ServerResponse, status: number, body: string): void {
  res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8', 'content-length': Buffer.byteLength(body) });
  res.end(body);
}

export function json(res: http.ServerResponse, status: number, value: unknown): void {
  const body = `${JSON.stringify(value, null, 2)}\n`;
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
  res.end(body);
}
