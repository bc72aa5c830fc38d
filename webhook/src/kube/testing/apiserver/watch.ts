// Watch, as kube-apiserver serves it from its watch cache (staging/src/k8s.io/apiserver/pkg/storage/
// cacher: cacher.go Watch, watch_cache.go getAllEventsSinceLocked, the bookmark timer) and
// endpoints/handlers/watch.go (a 200 response of newline-delimited JSON events, chunked):
// - resourceVersion unset or "0": synthetic ADDED events for every current object, then live events;
// - resourceVersion N: every event after N from the cache's history, then live events; N older than the
//   history → one ERROR event carrying the 410 Expired Status ("too old resource version: N (M)"), then
//   the stream ends — the client must relist; N newer than the server → after 3 s an ERROR event with the
//   504 "Too large resource version" Status;
// - the history is a ring of `watchCacheSize` events per resource (--default-watch-cache-size, 100); the
//   oldest resumable version is the list version the cache started from until an event falls out of
//   the ring, then that event's (GetIntervalLocked); a restarted server's cache starts at the current
//   version with no history, so a watch resumed from before the restart gets 410;
// - timeoutSeconds ends the stream cleanly after that long; without it the server picks a time in
//   [minRequestTimeout, 2 × minRequestTimeout) (1800 s);
// - allowWatchBookmarks=true: BOOKMARK events (an object with only kind, apiVersion and
//   metadata.resourceVersion) every minute, and 2 s before the timeout (cacheWatcher.nextBookmarkTime).
// Not modelled: label/field selectors (refused 400), sendInitialEvents (WatchList), slow-watcher
// termination.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { apiVersionOf, type Kind } from './kinds.js';
import { badRequest, type Status } from './status.js';
import { obj, str, type Obj } from './validate-meta.js';

export type EventType = 'ADDED' | 'MODIFIED' | 'DELETED';
export interface StoredEvent { readonly type: EventType; readonly object: Obj; readonly rv: number; readonly namespace: string }

export interface WatchOptions {
  /** Events kept per resource for resuming watches (kube-apiserver --default-watch-cache-size: 100). */
  readonly watchCacheSize?: number;
  /** --min-request-timeout (1800 s): the default watch lasts between this and twice this. */
  readonly minRequestTimeoutSeconds?: number;
  /** Time between bookmarks (the cacher's bookmarkFrequency: 1 minute). */
  readonly bookmarkIntervalMs?: number;
}

const expired = (message: string): Status => ({ kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message, reason: 'Expired', code: 410 });
const tooLarge = (rv: number, current: number): Status => ({
  kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure',
  message: `Timeout: Too large resource version: ${rv}, current: ${current}`, reason: 'Timeout',
  details: { causes: [{ reason: 'ResourceVersionTooLarge', message: 'Too large resource version' }] }, code: 504,
} as unknown as Status);

class History {
  private events: StoredEvent[] = [];
  private removed = false;
  constructor(private readonly capacity: number, private listRv: number) {}

  add(e: StoredEvent): void {
    this.events.push(e);
    if (this.events.length > this.capacity) {
      this.events.shift();
      this.removed = true;
    }
  }

  /** The events after `rv`, or the 410 when `rv` is older than what the cache can replay. */
  since(rv: number): StoredEvent[] | Status {
    const oldest = !this.removed ? this.listRv + 1 : (this.events[0]?.rv ?? this.listRv + 1);
    if (rv < oldest - 1) return expired(`too old resource version: ${rv} (${oldest - 1})`);
    return this.events.filter((e) => e.rv > rv);
  }
}

interface Watcher {
  readonly kind: Kind;
  readonly namespace: string;
  readonly res: ServerResponse;
  readonly timers: NodeJS.Timeout[];
}

export interface WatchRecord { readonly resource: string; readonly namespace: string; readonly resourceVersion: string }

export class WatchHub {
  private readonly histories = new Map<string, History>();
  private readonly watchers = new Set<Watcher>();
  /** The version the watch caches were filled at: 0 for a new server, the then current one after restart(). */
  private baseRv = 0;
  /** Every watch request served (tests count resumes and relists). */
  readonly requests: WatchRecord[] = [];

  constructor(
    private readonly opts: WatchOptions,
    private readonly currentRv: () => number,
    private readonly list: (kind: Kind, namespace: string) => Obj[],
  ) {}

  private history(kind: Kind): History {
    let h = this.histories.get(kind.resource);
    if (!h) {
      h = new History(this.opts.watchCacheSize ?? 100, this.baseRv);
      this.histories.set(kind.resource, h);
    }
    return h;
  }

  /** Called by the store after each write, with the object as stored (its new resourceVersion). */
  record(kind: Kind, type: EventType, object: Obj): void {
    const meta = obj(object, 'metadata');
    const e: StoredEvent = { type, object: structuredClone(object), rv: Number(str(meta, 'resourceVersion')), namespace: str(meta, 'namespace') };
    this.history(kind).add(e);
    for (const w of this.watchers) if (w.kind === kind && (w.namespace === '' || w.namespace === e.namespace)) this.write(w, e.type, e.object);
  }

  private write(w: Watcher, type: string, object: unknown): void {
    if (!w.res.writableEnded) w.res.write(`${JSON.stringify({ type, object })}\n`);
  }

  private end(w: Watcher, destroy: boolean): void {
    for (const t of w.timers) clearTimeout(t);
    this.watchers.delete(w);
    if (destroy) w.res.destroy();
    else if (!w.res.writableEnded) w.res.end();
  }

  /** GET ...?watch=true. Throws an ApiStatusError for a bad request (before any byte is sent). */
  serve(req: IncomingMessage, res: ServerResponse, kind: Kind, namespace: string, query: URLSearchParams): void {
    for (const p of ['labelSelector', 'fieldSelector', 'sendInitialEvents', 'resourceVersionMatch']) {
      if (query.get(p)) throw badRequest(`${p} is not modelled by the in-memory API server`);
    }
    const rvText = query.get('resourceVersion') ?? '';
    if (rvText !== '' && !/^\d+$/.test(rvText)) throw badRequest(`invalid resource version: ${JSON.stringify(rvText)}`);
    const timeoutText = query.get('timeoutSeconds');
    if (timeoutText !== null && !/^\d+$/.test(timeoutText)) throw badRequest(`invalid timeoutSeconds: ${JSON.stringify(timeoutText)}`);
    const min = this.opts.minRequestTimeoutSeconds ?? 1800;
    const timeoutMs = timeoutText !== null ? Number(timeoutText) * 1000 : (min + Math.random() * min) * 1000;
    const bookmarks = query.get('allowWatchBookmarks') === 'true';
    this.requests.push({ resource: kind.resource, namespace, resourceVersion: rvText });

    res.writeHead(200, { 'Content-Type': 'application/json', 'Transfer-Encoding': 'chunked', 'Cache-Control': 'no-cache, private' });
    res.flushHeaders();
    const w: Watcher = { kind, namespace, res, timers: [] };
    req.on('close', () => this.end(w, false));

    const start = (): void => {
      let initial: { type: string; object: Obj }[];
      if (rvText === '' || rvText === '0') {
        initial = this.list(kind, namespace).map((o) => ({ type: 'ADDED', object: o }));
      } else {
        const events = this.history(kind).since(Number(rvText));
        if (!Array.isArray(events)) {
          this.write(w, 'ERROR', events);
          this.end(w, false);
          return;
        }
        initial = events.filter((e) => namespace === '' || e.namespace === namespace);
      }
      for (const e of initial) this.write(w, e.type, e.object);
      this.watchers.add(w);
      const bookmark = (): void => this.write(w, 'BOOKMARK', { kind: kind.kind, apiVersion: apiVersionOf(kind), metadata: { resourceVersion: String(this.currentRv()) } });
      if (bookmarks) {
        // cacheWatcher.nextBookmarkTime: every bookmarkFrequency, but never later than 2 s before the deadline.
        const every = this.opts.bookmarkIntervalMs ?? 60_000;
        const deadline = Date.now() + timeoutMs;
        const schedule = (): void => {
          const next = Math.min(Date.now() + every, deadline - 2000);
          if (next <= Date.now()) return;
          w.timers.push(setTimeout(() => { bookmark(); schedule(); }, next - Date.now()).unref());
        };
        schedule();
      }
      w.timers.push(setTimeout(() => this.end(w, false), timeoutMs).unref());
    };

    const wanted = rvText === '' ? 0 : Number(rvText);
    if (wanted <= this.currentRv()) {
      start();
      return;
    }
    // waitUntilFreshAndBlock: up to 3 s for the cache to reach the requested version.
    const began = Date.now();
    const poll = setInterval(() => {
      if (wanted <= this.currentRv()) { clearInterval(poll); start(); return; }
      if (Date.now() - began >= 3000) {
        clearInterval(poll);
        this.write(w, 'ERROR', tooLarge(wanted, this.currentRv()));
        this.end(w, false);
      }
    }, 50);
    w.timers.push(poll);
  }

  /** The connections of every open watch are cut (a network drop, a load balancer reset). */
  dropAll(): void {
    for (const w of [...this.watchers]) this.end(w, true);
  }

  /** A restarted API server: open watches are cut and each watch cache starts over at the current version. */
  restart(): void {
    this.dropAll();
    this.histories.clear();
    this.baseRv = this.currentRv();
  }

  /** Open watches (for tests). */
  get open(): number {
    return this.watchers.size;
  }
}
