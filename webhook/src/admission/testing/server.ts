// Test support (not a test file): the admission app behind skein-cp's own HTTPS listener (server.ts) on
// 127.0.0.1:0, with a certificate from skein-cp's own CA code (tls/issue.ts), a client that posts to it, and
// a log capture. Same listener and certificates as production, so no second copy of either to keep in step.
import { request } from 'node:https';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import type { InjectorConfig } from '../../injector/index.js';
import { startWebhookServer } from '../../server.js';
import { createCa, issueServing } from '../../tls/issue.js';
import { checkServing } from '../../tls/material.js';
import { AdmissionMetrics, createAdmissionApp } from '../index.js';
import { reviewObject, type ReviewInput } from './review.js';

export interface TestServer {
  url: string;
  ca: string;
  registry: Registry;
  logs: Array<Record<string, unknown>>;
  close(): Promise<void>;
}

export interface HttpReply { status: number; headers: Record<string, string | string[] | undefined>; body: string }

export async function startTestServer(injector: InjectorConfig): Promise<TestServer> {
  const ca = createCa();
  const material = checkServing({ caCertPem: ca.certPem, ...issueServing(ca) });
  const logs: Array<Record<string, unknown>> = [];
  const logger = pino({ level: 'info' }, { write: (line: string) => { logs.push(JSON.parse(line) as Record<string, unknown>); } });
  const registry = new Registry();
  const app = createAdmissionApp({ injector, logger, metrics: new AdmissionMetrics(registry) });
  const listener = await startWebhookServer(app, material, '127.0.0.1', 0);
  return {
    url: `https://127.0.0.1:${listener.port}`,
    ca: ca.certPem,
    registry,
    logs,
    close: () => listener.close(1_000),
  };
}

export interface PostOptions { method?: string; headers?: Record<string, string>; path?: string }

/** Sends `body` (string or Buffer, or chunks for a body without Content-Length) and reads the whole reply. */
export function send(srv: TestServer, body: string | Buffer | Buffer[] | undefined, opts: PostOptions = {}): Promise<HttpReply> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = { 'content-type': 'application/json', ...opts.headers };
    if (typeof body === 'string' || Buffer.isBuffer(body)) headers['content-length'] = String(Buffer.byteLength(body));
    const req = request(`${srv.url}${opts.path ?? '/inject'}`, { method: opts.method ?? 'POST', ca: srv.ca, headers, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.on('error', reject);
    if (Array.isArray(body)) for (const chunk of body) req.write(chunk);
    else if (body !== undefined) req.write(body);
    req.end();
  });
}

let uidCounter = 0;

export type { ReviewInput } from './review.js';

export function admissionReview(input: ReviewInput): { uid: string; body: string } {
  uidCounter += 1;
  const uid = `00000000-0000-4000-8000-${String(uidCounter).padStart(12, '0')}`;
  return { uid, body: JSON.stringify(reviewObject(uid, input)) };
}
