// Test support (not a test file): the admission app behind a real HTTPS listener on 127.0.0.1:0 with a
// throwaway self-signed certificate made by the openssl CLI, a client that posts to it, and a log capture.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { request, createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import type { InjectorConfig } from '../../injector/index.js';
import { AdmissionMetrics, createAdmissionApp } from '../index.js';

export interface TestServer {
  url: string;
  ca: string;
  registry: Registry;
  logs: Array<Record<string, unknown>>;
  close(): Promise<void>;
}

export interface HttpReply { status: number; headers: Record<string, string | string[] | undefined>; body: string }

function selfSignedCert(): { key: string; cert: string } {
  const dir = mkdtempSync(join(tmpdir(), 'sk-ut-admission-'));
  try {
    execFileSync('openssl', [
      'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '1',
      '-subj', '/CN=localhost', '-addext', 'subjectAltName=IP:127.0.0.1,DNS:localhost',
      '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem'),
    ], { stdio: 'pipe' });
    return { key: readFileSync(join(dir, 'key.pem'), 'utf8'), cert: readFileSync(join(dir, 'cert.pem'), 'utf8') };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export async function startTestServer(injector: InjectorConfig): Promise<TestServer> {
  const { key, cert } = selfSignedCert();
  const logs: Array<Record<string, unknown>> = [];
  const logger = pino({ level: 'info' }, { write: (line: string) => { logs.push(JSON.parse(line) as Record<string, unknown>); } });
  const registry = new Registry();
  const app = createAdmissionApp({ injector, logger, metrics: new AdmissionMetrics(registry) });
  const server: Server = createServer({ key, cert }, app);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `https://127.0.0.1:${port}`,
    ca: cert,
    registry,
    logs,
    close: () => new Promise<void>((resolve) => { server.closeAllConnections(); server.close(() => resolve()); }),
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

export interface ReviewInput { object: unknown; namespace?: string; operation?: string; dryRun?: boolean; kind?: { group: string; version: string; kind: string } }

export function admissionReview(input: ReviewInput): { uid: string; body: string } {
  uidCounter += 1;
  const uid = `00000000-0000-4000-8000-${String(uidCounter).padStart(12, '0')}`;
  const review = {
    apiVersion: 'admission.k8s.io/v1',
    kind: 'AdmissionReview',
    request: {
      uid,
      kind: input.kind ?? { group: '', version: 'v1', kind: 'Pod' },
      resource: { group: '', version: 'v1', resource: 'pods' },
      requestKind: input.kind ?? { group: '', version: 'v1', kind: 'Pod' },
      namespace: input.namespace ?? 'default',
      operation: input.operation ?? 'CREATE',
      userInfo: { username: 'system:serviceaccount:kube-system:replicaset-controller' },
      object: input.object,
      oldObject: null,
      dryRun: input.dryRun ?? false,
      options: { apiVersion: 'meta.k8s.io/v1', kind: 'CreateOptions' },
    },
  };
  return { uid, body: JSON.stringify(review) };
}
