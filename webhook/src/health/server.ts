// Plain-HTTP health server: /healthz (the process answers), /readyz (webhook listening with a loaded
// certificate), /metrics (Prometheus). node:http without a framework: three fixed paths do not need routing,
// and this server must keep answering even if the admission app misbehaves.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Registry } from 'prom-client';
import type { Logger } from '../log.js';
import { listen } from '../server.js';

export interface Readiness {
  /** undefined when ready, otherwise why not (shown in the 503 body). */
  notReadyReason(): string | undefined;
}

export interface HealthDeps {
  readonly readiness: Readiness;
  readonly registry: Registry;
  readonly logger: Logger;
}

export function healthHandler(deps: HealthDeps): (req: IncomingMessage, res: ServerResponse) => void {
  return (req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (path !== '/healthz' && path !== '/readyz' && path !== '/metrics') {
      send(res, 404, 'text/plain', `not found: use /healthz, /readyz or /metrics\n`);
      return;
    }
    // HEAD is GET without a body (RFC 9110 §9.3.2); everything else is refused.
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.setHeader('Allow', 'GET, HEAD');
      send(res, 405, 'text/plain', `method ${req.method ?? ''} not allowed\n`);
      return;
    }
    if (path === '/healthz') {
      send(res, 200, 'text/plain', 'ok\n');
    } else if (path === '/readyz') {
      const reason = deps.readiness.notReadyReason();
      if (reason === undefined) send(res, 200, 'text/plain', 'ready\n');
      else send(res, 503, 'text/plain', `not ready: ${reason}\n`);
    } else {
      deps.registry.metrics().then(
        (body) => send(res, 200, deps.registry.contentType, body),
        (err: unknown) => {
          deps.logger.error({ err }, 'collecting metrics failed');
          send(res, 500, 'text/plain', 'metrics collection failed\n');
        },
      );
    }
  };
}

function send(res: ServerResponse, status: number, type: string, body: string): void {
  res.statusCode = status;
  res.setHeader('Content-Type', type);
  res.setHeader('Cache-Control', 'no-store');
  res.setHeader('Content-Length', Buffer.byteLength(body));
  res.end(res.req.method === 'HEAD' ? undefined : body);
}

export async function startHealthServer(deps: HealthDeps, host: string, port: number): Promise<{ server: Server; port: number }> {
  const server = createServer({ maxHeaderSize: 16 * 1024 }, healthHandler(deps));
  server.requestTimeout = 10_000;
  server.headersTimeout = 5_000;
  return { server, port: await listen(server, host, port, 'health') };
}
