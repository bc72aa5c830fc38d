// The CLI's side of the daemon API: JSON over HTTP on the unix socket.
import { request } from 'node:http';
import { dirname } from 'node:path';
import { DaemonError, LocalError } from '../errors.js';

export interface Health { ready: boolean; error?: string; pid: number }

export function call<T>(socketPath: string, method: 'GET' | 'POST', path: string, body?: unknown, timeoutMs = 300_000): Promise<T> {
  const data = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
  return new Promise((resolvePromise, reject) => {
    const req = request({ socketPath, method, path, timeout: timeoutMs, headers: data ? { 'content-type': 'application/json', 'content-length': data.length } : {} }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        let parsed: unknown;
        try { parsed = JSON.parse(Buffer.concat(chunks).toString('utf8')); } catch { reject(new DaemonError(`the daemon sent an unreadable answer to ${method} ${path.split('?')[0]}: see daemon.log in the state dir`)); return; }
        if (res.statusCode === 200) resolvePromise(parsed as T);
        else {
          const e = parsed as { code?: string; message?: string };
          reject(new LocalError(e.code ?? 'E_DAEMON', e.message ?? `HTTP ${res.statusCode}`));
        }
      });
    });
    req.on('timeout', () => req.destroy(new DaemonError(`the daemon did not answer ${method} ${path.split('?')[0]} within ${timeoutMs / 1000}s: see daemon.log in the state dir`)));
    req.on('error', (err: NodeJS.ErrnoException) => {
      if (err instanceof LocalError) reject(err);
      else reject(new DaemonError(`no node is up with state dir ${dirname(socketPath)} (no daemon answers on ${socketPath}): run \`skein-local up\` first, or pass the --state-dir of the running node`));
    });
    req.end(data);
  });
}

/** The daemon's health, or undefined when nothing answers on the socket. */
export async function health(socketPath: string): Promise<Health | undefined> {
  try {
    return await call<Health>(socketPath, 'GET', '/healthz', undefined, 5_000);
  } catch {
    return undefined;
  }
}
