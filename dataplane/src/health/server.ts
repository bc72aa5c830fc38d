// Health + metrics server on POD_IP:15020 (what the kubelet and Prometheus reach): /ready, /live,
// /metrics and /app-health/<container>/<liveness|readiness|startup>. GET only; nothing here changes state.
import http from 'node:http';
import type { Logger } from 'pino';
import { PROBE_KINDS, type OriginalProbes, type ProbeKind } from '../config/probes.js';
import type { Metrics } from '../metrics/index.js';
import type { ProxyState } from '../lifecycle/state.js';
import { prometheus, readiness, text } from '../admin/server.js';
import { runProbe } from './probes.js';

export interface HealthDeps {
  state: ProxyState;
  metrics: Metrics;
  probes: OriginalProbes;
  /** Host the probes dial when the probe names none: the pod IP (kubelet's default). */
  probeHost: string;
  log: Logger;
}

export function createHealthServer(deps: HealthDeps): http.Server {
  const server = http.createServer({ requestTimeout: 60_000, headersTimeout: 10_000 }, (req, res) => {
    const path = new URL(req.url ?? '/', 'http://health.invalid').pathname;
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.setHeader('allow', 'GET, HEAD');
      return text(res, 405, 'method not allowed\n');
    }
    if (path === '/ready') return readiness(deps.state, res);
    if (path === '/live') return text(res, 200, 'live\n');
    if (path === '/metrics') return void prometheus(deps.metrics, res).catch(() => res.destroy());
    const appHealth = /^\/app-health\/([^/]+)\/([^/]+)$/.exec(path);
    if (appHealth) return void appProbe(deps, decodeURIComponent(appHealth[1] as string), appHealth[2] as string, res);
    text(res, 404, 'not found\n');
  });
  server.on('clientError', (_err, socket) => socket.destroy());
  return server;
}

async function appProbe(deps: HealthDeps, container: string, kind: string, res: http.ServerResponse): Promise<void> {
  const probe = (PROBE_KINDS as readonly string[]).includes(kind) ? deps.probes.get(container)?.get(kind as ProbeKind) : undefined;
  if (!probe) return text(res, 404, `no ${kind} probe for container ${container}\n`);
  const result = await runProbe(probe, deps.probeHost);
  if (!result.ok) deps.log.info({ container, kind, detail: result.detail }, 'app probe failed');
  text(res, result.ok ? 200 : 503, `${result.detail}\n`);
}
