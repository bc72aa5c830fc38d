// Test support (not a test file): an in-memory kube-apiserver over HTTPS for the kinds skein-cp writes
// (kinds.ts). skein-cp's real client code (kube/client.ts, @kubernetes/client-node) talks to it through
// a kubeconfig, so what goes over the wire — JSON field names, MicroTime digits, base64, content types,
// resourceVersions — is checked the way a real API server checks it, and answered with real Status
// objects (status.ts). There is no real API server on the development machine; this is the stand-in
// that makes the next "the real server refuses it" bug fail a test here.
//
// Routes: GET /version; for each kind, the collection (GET list, POST) and the item (GET, PUT, PATCH,
// DELETE) under /api/v1/namespaces/NS/... or /apis/GROUP/VERSION/[namespaces/NS/]...; GET of a collection
// with ?watch=true streams events (watch.ts); NAME/status for the kinds with a status subresource.
// Authentication: the bearer token of the kubeconfig it writes (401 otherwise). Authorization (RBAC) is
// not modelled.
import { once } from 'node:events';
import { writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { createCa, issueServing } from '../../../tls/issue.js';
import { decodeObject, writeParams } from './decode.js';
import { apiVersionOf, KINDS, type Kind } from './kinds.js';
import { applyPatch } from './patch.js';
import {
  ApiStatusError, badRequest, goString, invalid, invalidObject, methodNotAllowed, pathNotFound,
  requestTooLarge, unauthorized, unsupportedMediaType, type Status,
} from './status.js';
import { Store, type WriteRecord } from './store.js';
import { ServiceAccountTokens } from './service-account-tokens.js';
import { handleTokenReview, isTokenReviewPath, storePods } from './tokenreview.js';
import { obj, str, type Obj } from './validate-meta.js';
import { WatchHub, type WatchOptions } from './watch.js';
import { NAMESPACES } from './kinds-discovery.js';

export interface VersionInfo { readonly major: string; readonly minor: string; readonly gitVersion: string }

export interface FakeApiServerOptions {
  readonly version?: VersionInfo;
  /** Namespaces that exist (NamespaceLifecycle refuses writes elsewhere). */
  readonly namespaces?: readonly string[];
  /** Watch cache size, request timeout and bookmark frequency (watch.ts). */
  readonly watch?: WatchOptions;
  /** Resources not served (404), as a cluster without that CRD installed: e.g. ['trafficpermissions']. */
  readonly withoutResources?: readonly string[];
}

/** apiserver MaxRequestBodyBytes default (3 MiB). */
const MAX_BODY = 3 * 1024 * 1024;
const BODY_TYPES = ['application/json', 'application/yaml', 'application/vnd.kubernetes.protobuf'];

interface Route { readonly kind: Kind; readonly namespace: string; readonly name: string | undefined; readonly subresource?: 'status' }

function route(pathname: string, without: readonly string[]): Route | 'version' | undefined {
  if (pathname === '/version' || pathname === '/version/') return 'version';
  const parts = pathname.split('/').filter((p) => p !== '');
  let group: string; let version: string; let rest: string[];
  if (parts[0] === 'api' && parts[1] === 'v1') { group = ''; version = 'v1'; rest = parts.slice(2); }
  else if (parts[0] === 'apis' && parts.length >= 3) { group = parts[1] ?? ''; version = parts[2] ?? ''; rest = parts.slice(3); }
  else return undefined;
  let namespace = '';
  if (rest[0] === 'namespaces' && rest.length >= 3) { namespace = rest[1] ?? ''; rest = rest.slice(2); }
  const kind = KINDS.find((k) => k.group === group && k.version === version && k.resource === rest[0] && !without.includes(k.resource));
  const subresource = rest.length === 3 && rest[2] === 'status' && kind?.status !== undefined ? 'status' as const : undefined;
  if (!kind || rest.length > (subresource ? 3 : 2) || (namespace !== '' && !kind.namespaced)) return undefined;
  if (kind.namespaced && namespace === '' && rest.length === 2) return undefined; // a named namespaced object needs its namespace
  return { kind, namespace, name: rest[1], ...(subresource ? { subresource } : {}) };
}

const mediaType = (req: IncomingMessage): string => (req.headers['content-type'] ?? '').split(';')[0]?.trim().toLowerCase() ?? '';

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const c of req) {
    size += (c as Buffer).length;
    if (size > MAX_BODY) throw requestTooLarge(`limit is ${MAX_BODY}`);
    chunks.push(c as Buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}

function parseJson(text: string, kind: Kind): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch (err) {
    throw badRequest(`the object provided is unrecognized (must be of type ${kind.kind}): couldn't get version/kind; json parse error: ${(err as Error).message}`);
  }
}

/** handlers/rest.go checkName: the body names the object of the URL. */
function checkName(o: Obj, name: string, namespace: string): void {
  const meta = obj(o, 'metadata');
  const own = str(meta, 'name');
  if (own === '') throw badRequest(`the name of the object (${name} based on URL) was undeterminable: name must be provided`);
  if (own !== name) throw badRequest(`the name of the object (${own}) does not match the name on the URL (${name})`);
  const ns = str(meta, 'namespace');
  if (namespace !== '' && ns !== '' && ns !== namespace) {
    throw badRequest(`the namespace of the object (${ns}) does not match the namespace on the request (${namespace})`);
  }
}

export class FakeApiServer {
  readonly store: Store;
  /** Every Warning header sent (e.g. `unknown field "spec.foo"`): a correct client triggers none. */
  readonly warnings: string[] = [];
  readonly token = randomBytes(16).toString('hex');
  /** The service account token issuer behind TokenReview (tokenreview.ts): tests mint tokens with it. */
  readonly tokens = new ServiceAccountTokens(storePods(() => this.store));
  /** Every list request served (tests tell a resumed watch from a relist). */
  readonly lists: { readonly resource: string; readonly namespace: string }[] = [];
  /** Watches and their caches (watch.ts): tests cut them (dropWatches) or restart them (restartWatchCache). */
  readonly watches: WatchHub;
  private readonly ca = createCa();
  private readonly server: Server;
  private readonly version: VersionInfo;
  private readonly withoutResources: readonly string[];

  private constructor(opts: FakeApiServerOptions) {
    this.version = opts.version ?? { major: '1', minor: '32', gitVersion: 'v1.32.13' };
    this.withoutResources = opts.withoutResources ?? [];
    this.store = new Store(opts.namespaces ?? ['default', 'kube-system', 'kube-public', 'kube-node-lease', 'skein-system']);
    this.watches = new WatchHub(opts.watch ?? {}, () => this.store.resourceVersion, (kind, ns) => this.store.list(kind, ns));
    this.store.listener = (kind, type, o) => this.watches.record(kind, type, o);
    // The namespaces that exist are Namespace objects too (a list or watch of namespaces shows them).
    for (const name of this.store.namespaces) this.store.create(NAMESPACES, '', { metadata: { name } }, { dryRun: false });
    this.store.writes.splice(0);
    const serving = issueServing(this.ca);
    this.server = createServer({ key: serving.keyPem, cert: serving.certPem }, (req, res) => void this.handle(req, res));
  }

  static async start(opts: FakeApiServerOptions = {}): Promise<FakeApiServer> {
    const s = new FakeApiServer(opts);
    s.server.listen(0, '127.0.0.1');
    await once(s.server, 'listening');
    return s;
  }

  get url(): string {
    return `https://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  get caPem(): string {
    return this.ca.certPem;
  }

  get writes(): readonly WriteRecord[] {
    return this.store.writes;
  }

  /** A kubeconfig for this server (CA pinned, bearer token), as a cluster admin would hand out. */
  kubeconfig(): string {
    const ca = Buffer.from(this.ca.certPem).toString('base64');
    return [
      'apiVersion: v1', 'kind: Config', 'current-context: fake',
      `clusters: [{ name: fake, cluster: { server: "${this.url}", certificate-authority-data: "${ca}" } }]`,
      `users: [{ name: fake, user: { token: "${this.token}" } }]`,
      'contexts: [{ name: fake, context: { cluster: fake, user: fake } }]', '',
    ].join('\n');
  }

  async writeKubeconfig(dir: string): Promise<string> {
    const path = join(dir, 'kubeconfig');
    await writeFile(path, this.kubeconfig(), { mode: 0o600 });
    return path;
  }

  /** Creates an object as an administrator's `kubectl create` would: same decoding and validation. */
  seed(kind: Kind, object: Obj): Obj {
    const { object: decoded } = decodeObject(kind, object, 'Strict');
    const ns = str(obj(decoded, 'metadata'), 'namespace');
    return this.store.create(kind, ns, decoded, { dryRun: false }).object;
  }

  /** The stored object, or undefined. */
  get(kind: Kind, namespace: string, name: string): Obj | undefined {
    return this.store.peek(kind, namespace, name);
  }

  /** Cuts the connection of every open watch, as a network drop would. */
  dropWatches(): void {
    this.watches.dropAll();
  }

  /** What a restart does to watches: cut, and the watch caches start over at the current version (older resumes get 410). */
  restartWatchCache(): void {
    this.watches.restart();
  }

  /**
   * A restart of the API server: every connection is cut, the port refuses connections for `downMs`,
   * then the server listens again on the same port with fresh watch caches (the store, like etcd, keeps
   * its objects and versions).
   */
  async restart(downMs = 0): Promise<void> {
    const { port } = this.server.address() as AddressInfo;
    this.watches.restart();
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
    if (downMs > 0) await new Promise((r) => setTimeout(r, downMs));
    this.server.listen(port, '127.0.0.1');
    await once(this.server, 'listening');
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private send(res: ServerResponse, code: number, body: unknown, warnings: readonly string[] = []): void {
    if (warnings.length > 0) {
      this.warnings.push(...warnings);
      res.setHeader('Warning', warnings.map((w) => `299 - ${JSON.stringify(w)}`));
    }
    res.writeHead(code, { 'Content-Type': 'application/json' });
    res.end(JSON.stringify(body));
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    try {
      if (req.headers.authorization !== `Bearer ${this.token}`) throw unauthorized();
      const url = new URL(req.url ?? '/', 'https://fake');
      if (isTokenReviewPath(url.pathname)) {
        const text = await readBody(req);
        const { code, body, warnings } = handleTokenReview(this.tokens, url.pathname, req.method ?? 'GET', url.searchParams, mediaType(req), text);
        this.send(res, code, body, warnings);
        return;
      }
      const r = route(url.pathname, this.withoutResources);
      if (r === undefined) throw pathNotFound();
      if (r === 'version') {
        if (req.method !== 'GET') throw methodNotAllowed();
        this.send(res, 200, { ...this.version, gitCommit: '0000000', gitTreeState: 'clean', buildDate: '2026-01-01T00:00:00Z', goVersion: 'go1.23', compiler: 'gc', platform: 'linux/amd64' });
        return;
      }
      if (r.name === undefined && r.subresource === undefined && req.method === 'GET' && ['true', '1'].includes(url.searchParams.get('watch') ?? '')) {
        this.watches.serve(req, res, r.kind, r.namespace, url.searchParams);
        return;
      }
      const text = await readBody(req);
      const { code, body, warnings } = this.dispatch(r, req.method ?? 'GET', url.searchParams, mediaType(req), text);
      this.send(res, code, body, warnings);
    } catch (err) {
      const status: Status = err instanceof ApiStatusError
        ? err.status
        : { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message: `Internal error occurred: ${(err as Error).message}`, reason: 'InternalError', code: 500 };
      this.send(res, status.code, status);
    }
  }

  private dispatch(r: Route, method: string, query: URLSearchParams, contentType: string, text: string): { code: number; body: unknown; warnings: readonly string[] } {
    const { kind, namespace, name, subresource } = r;
    if (subresource !== undefined && (method === 'POST' || method === 'DELETE')) throw methodNotAllowed();
    if (name === undefined) {
      if (method === 'GET') return { code: 200, body: this.list(kind, namespace), warnings: [] };
      if (method !== 'POST' || (kind.namespaced && namespace === '')) throw methodNotAllowed();
      const params = writeParams(query, 'CreateOptions');
      if (contentType !== '' && contentType !== 'application/json') throw unsupportedMediaType(BODY_TYPES);
      const { object, warnings } = decodeObject(kind, parseJson(text, kind), params.fieldValidation);
      return { code: 201, body: this.store.create(kind, namespace, object, params).object, warnings };
    }
    switch (method) {
      case 'GET':
        return { code: 200, body: this.store.get(kind, namespace, name), warnings: [] };
      case 'PUT': {
        const params = writeParams(query, 'UpdateOptions');
        if (contentType !== '' && contentType !== 'application/json') throw unsupportedMediaType(BODY_TYPES);
        const { object, warnings } = decodeObject(kind, parseJson(text, kind), params.fieldValidation);
        checkName(object, name, namespace);
        const result = this.store.update(kind, namespace, name, object, params, 'update', subresource);
        return { code: result.created ? 201 : 200, body: result.object, warnings };
      }
      case 'PATCH': {
        const params = writeParams(query, 'PatchOptions');
        const current = this.store.get(kind, namespace, name);
        const patched = applyPatch(contentType, current, parseJson(text, kind));
        // patch.go: a patched document that does not decode is Invalid, field "patch", kind and name empty.
        const decoded = decodeObject(kind, patched, params.fieldValidation, (e) =>
          invalidObject({ group: '', kind: '' }, '', [invalid('patch', goString(JSON.stringify(patched)), e.message)]));
        checkName(decoded.object, name, namespace);
        const result = this.store.update(kind, namespace, name, decoded.object, params, 'patch', subresource);
        return { code: 200, body: result.object, warnings: decoded.warnings };
      }
      case 'DELETE':
        return { code: 200, body: this.store.delete(kind, namespace, name), warnings: [] };
      default:
        throw methodNotAllowed();
    }
  }

  private list(kind: Kind, namespace: string): unknown {
    this.lists.push({ resource: kind.resource, namespace });
    return { apiVersion: apiVersionOf(kind), kind: `${kind.kind}List`, metadata: { resourceVersion: String(this.store.resourceVersion) }, items: this.store.list(kind, namespace) };
  }
}
