// The daemon's HTTP JSON API on a unix socket (<state>/api.sock). Root-only by file mode.
// Routes: GET /healthz, POST /apply, POST /delete, GET /objects, POST /shutdown.
import { chmod, rm } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { LocalError } from '../errors.js';
import type { Logger } from '../log.js';
import type { RemovedCounts } from '../state/inventory.js';
import type { KubeObject, Pod } from '../model/types.js';
import { matchesSelector, parseSelectorArg } from '../admission/selectors.js';
import { kindFromArg } from '../store/kinds.js';
import type { ApplyResult, LocalNode } from './node.js';

export interface ApiState {
  ready: boolean;
  error?: string;
  node?: LocalNode;
  /** Stops pods and skein-cp; resolves with what that removed (POST /shutdown answers with it). */
  stop: () => Promise<RemovedCounts>;
  /** Ends the daemon: called once the shutdown answer has been written. */
  exit: () => void;
}

/** POST /shutdown answers once pods and skein-cp are stopped, with what was removed. */
export interface ShutdownResponse { ok: true; removed: RemovedCounts }

export interface ApplyResponse { results: ApplyResult[]; errors: { code: string; message: string; object?: string }[] }

const MAX_BODY = 16 * 1024 * 1024;

export async function startApiServer(socketPath: string, state: ApiState, log: Logger): Promise<Server> {
  await rm(socketPath, { force: true });
  const server = createServer((req, res) => {
    handle(req, res, state).catch((err: Error) => {
      log.error({ err: err.message, url: req.url }, 'api request failed');
      send(res, 500, { code: 'E_INTERNAL', message: err.message });
    });
  });
  await new Promise<void>((r, j) => { server.once('error', j); server.listen(socketPath, () => r()); });
  await chmod(socketPath, 0o600);
  return server;
}

async function handle(req: IncomingMessage, res: ServerResponse, state: ApiState): Promise<void> {
  const url = new URL(req.url ?? '/', 'http://local');
  if (req.method === 'GET' && url.pathname === '/healthz') return send(res, 200, { ready: state.ready, error: state.error, pid: process.pid });
  if (req.method === 'POST' && url.pathname === '/shutdown') {
    await readBody(req);
    const body: ShutdownResponse = { ok: true, removed: await state.stop() };
    // The daemon exits only once the answer is written, so `down` gets the counts.
    res.setHeader('connection', 'close');
    send(res, 200, body, () => state.exit());
    return;
  }
  const node = state.node;
  if (!state.ready || !node) {
    return send(res, 503, { code: 'E_NOT_READY', message: state.error
      ? `the node failed to start (${state.error}): see daemon.log in the state dir, then run \`skein-local down\` and \`skein-local up\``
      : 'the node is still starting: retry once `skein-local up` has returned' });
  }
  if (req.method === 'POST' && (url.pathname === '/apply' || url.pathname === '/delete')) {
    const body = JSON.parse(await readBody(req)) as { objects: KubeObject[] };
    const out: ApplyResponse = { results: [], errors: [] };
    // Delete in reverse file order: a Namespace listed first goes last, after what lives in it.
    const objects = url.pathname === '/delete' ? [...body.objects].reverse() : body.objects;
    for (const o of objects) {
      try {
        if (url.pathname === '/apply') out.results.push(await node.applyOne(structuredClone(o)));
        else out.results.push(...(await node.delete([o])));
      } catch (err) {
        const e = err as LocalError;
        out.errors.push({ code: e.code ?? 'E_INTERNAL', message: e.message, object: `${o.kind}/${o.metadata?.name ?? o.metadata?.generateName ?? ''}` });
      }
    }
    await node.services.settle();
    return send(res, 200, out);
  }
  if (req.method === 'GET' && url.pathname === '/objects') {
    try {
      const kind = kindFromArg(url.searchParams.get('kind') ?? '').kind;
      const all = url.searchParams.get('all') === '1';
      const ns = all ? undefined : (url.searchParams.get('namespace') ?? 'default');
      const name = url.searchParams.get('name');
      const sel = url.searchParams.get('selector');
      let items = node.store.list(kind, ns === undefined ? undefined : (kind === 'Namespace' || kind === 'Mesh' ? undefined : ns));
      if (name) items = items.filter((o) => o.metadata.name === name);
      if (sel) items = items.filter((o) => matchesSelector(parseSelectorArg(sel), (o as Pod).metadata.labels));
      return send(res, 200, { items });
    } catch (err) {
      const e = err as LocalError;
      return send(res, 400, { code: e.code ?? 'E_INVALID', message: e.message });
    }
  }
  send(res, 404, { code: 'E_NOT_FOUND', message: `no route ${req.method} ${url.pathname}` });
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((r, j) => {
    const chunks: Buffer[] = [];
    let n = 0;
    req.on('data', (c: Buffer) => {
      n += c.length;
      if (n > MAX_BODY) { j(new Error('request body too large')); req.destroy(); return; }
      chunks.push(c);
    });
    req.on('end', () => r(Buffer.concat(chunks).toString('utf8')));
    req.on('error', j);
  });
}

function send(res: ServerResponse, status: number, body: unknown, written?: () => void): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text, written);
}
