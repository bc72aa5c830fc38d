// Test support: raw HTTPS requests to the in-memory API server (what curl or kubectl --raw would send),
// for tests that need bodies client-node would never produce.
import { request } from 'node:https';
import type { FakeApiServer } from './server.js';

export interface RawResponse {
  readonly status: number;
  readonly warnings: readonly string[];
  readonly body: Record<string, unknown>;
}

export function raw(
  api: FakeApiServer, method: string, path: string, body?: unknown,
  opts: { contentType?: string; token?: string | null } = {},
): Promise<RawResponse> {
  const payload = body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body);
  const headers: Record<string, string> = {};
  if (opts.token !== null) headers.authorization = `Bearer ${opts.token ?? api.token}`;
  if (payload !== undefined) headers['content-type'] = opts.contentType ?? 'application/json';
  return new Promise((resolve, reject) => {
    const url = new URL(path, api.url);
    const req = request({ host: url.hostname, port: url.port, path: `${url.pathname}${url.search}`, method, headers, ca: api.caPem, agent: false }, (res) => {
      let text = '';
      res.on('data', (c: Buffer) => (text += c.toString()));
      res.on('end', () => {
        const w = res.headers.warning;
        resolve({
          status: res.statusCode ?? 0,
          warnings: w === undefined ? [] : (Array.isArray(w) ? w : [w]),
          body: JSON.parse(text) as Record<string, unknown>,
        });
      });
    });
    req.on('error', reject);
    req.end(payload);
  });
}
