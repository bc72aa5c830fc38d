// Keep-alive connection pools to upstreams, one per host:port (and source address). Connection reuse is
// the main performance lever (performance.md §3). Each upstream has an undici Pool — the hot path — and,
// created only when first needed, a Node http.Agent for what undici's HTTP/1.1 client cannot send
// (Expect: 100-continue, request trailers; see forwarder.ts). The number of upstreams is bounded (the
// least recently used one is closed) because the keys come from original destinations the app chose.
import http from 'node:http';
import net from 'node:net';
import { createRequire } from 'node:module';
import type { Pool as UndiciPool } from 'undici';
import { UpstreamConnectTimeoutError } from '../errors.js';
import type { Target } from '../tcp/forward.js';
import { ALPN_H1 } from '../mtls/client-hello.js';
import { upstreamConnector } from './connect.js';
import { PendingCap } from '../resilience/pending.js';

// undici's index loads all of undici (fetch, WebSocket, cache, mocks): +84 ms and +15 MB of RSS at
// start-up, measured; the proxy uses the Pool only, which alone is +25 ms and +11.5 MB (mostly llhttp's WASM).
const Pool = createRequire(import.meta.url)('undici/lib/dispatcher/pool.js') as typeof UndiciPool;
type Pool = UndiciPool;

export interface PoolOptions {
  maxSocketsPerUpstream: number;
  maxPools: number;
  connectTimeoutMs: number;
  /** How long an idle pooled connection is kept (shorter than typical app keep-alive timeouts). */
  idleMs?: number;
  /** Requests that may wait for a connection beyond maxSocketsPerUpstream (default 1024); see resilience/pending.ts. */
  maxPendingRequests?: number;
}

type AddRequest = (this: http.Agent, req: http.ClientRequest, options: unknown) => void;
// Node's Agent#addRequest (undocumented, stable since v0.x): called from the ClientRequest constructor.
const agentAddRequest = (http.Agent.prototype as unknown as { addRequest: AddRequest }).addRequest;

/**
 * An Agent whose connections have noDelay and a connect timeout, and that hands the next ClientRequest it
 * is given to a one-shot hook. http-proxy creates the outgoing request synchronously inside web(), and
 * emits 'proxyReq' only when no Expect header is present, so the forwarder sets the hook right before
 * web() and clears it right after: it sees every request without a per-request wrapper object.
 */
export class UpstreamAgent extends http.Agent {
  private nextRequest: ((req: http.ClientRequest) => void) | undefined;

  constructor(private readonly connectTimeoutMs: number, options: http.AgentOptions, private readonly target?: Target) {
    super(options);
  }

  /** Runs `create` with `hook` armed: the first request `create` makes with this agent is passed to `hook`. */
  withRequestHook(hook: (req: http.ClientRequest) => void, create: () => void): void {
    this.nextRequest = hook;
    try {
      create();
    } finally {
      this.nextRequest = undefined;
    }
  }

  addRequest(req: http.ClientRequest, options: unknown): void {
    const hook = this.nextRequest;
    this.nextRequest = undefined;
    hook?.(req);
    agentAddRequest.call(this, req, options);
  }

  override createConnection(options: net.NetConnectOpts, callback?: (err: Error | null, socket: net.Socket) => void): net.Socket {
    const secure = this.target?.secure;
    if (secure && callback) {
      // A meshed peer: Node's Agent waits for the callback when nothing is returned.
      secure.mtls.connect(this.target as Target, secure.expect, ALPN_H1, this.connectTimeoutMs).then(
        (socket) => callback(null, socket), (err: Error) => callback(err, undefined as unknown as net.Socket));
      return undefined as unknown as net.Socket;
    }
    const socket = net.createConnection({ ...options, noDelay: true } as net.NetConnectOpts);
    const target = `${String((options as net.TcpNetConnectOpts).host)}:${String((options as net.TcpNetConnectOpts).port)}`;
    const timer = setTimeout(() => {
      socket.destroy(new UpstreamConnectTimeoutError(target, this.connectTimeoutMs));
    }, this.connectTimeoutMs);
    socket.once('connect', () => clearTimeout(timer));
    socket.once('close', () => clearTimeout(timer));
    void callback;
    return socket;
  }
}

/** Everything the proxy keeps for one upstream. */
export class Upstream {
  private agentInstance: UpstreamAgent | undefined;
  readonly pool: Pool;
  /** Requests running or waiting on `pool`; the fast path refuses with 503 above its limit. */
  readonly pending: PendingCap;

  constructor(readonly target: Target, private readonly options: PoolOptions) {
    this.pending = new PendingCap(options.maxSocketsPerUpstream + (options.maxPendingRequests ?? 1024));
    const host = target.host.includes(':') ? `[${target.host}]` : target.host;
    this.pool = new Pool(`http://${host}:${target.port}`, {
      connections: options.maxSocketsPerUpstream,
      connect: upstreamConnector(target, options.connectTimeoutMs),
      // Long polls and streams are the app's business: --response-timeout is set per request (0 = none).
      headersTimeout: 0, bodyTimeout: 0,
      // undici's default idle time (4 s, below Node's 5 s server keep-alive timeout, so we close first);
      // a server's `Keep-Alive: timeout=` hint may raise it up to idleMs.
      keepAliveTimeout: 4_000, keepAliveMaxTimeout: options.idleMs ?? 30_000,
      // Headers are checked by the server side (llhttp strict) before they get here; undici rejects
      // hop-by-hop names itself and we never send them.
      maxHeaderSize: 64 * 1024,
    });
    // A pool-level error without a request (a socket failing while idle) must never be unhandled.
    this.pool.on('connectionError', () => undefined);
  }

  /** The http.Agent for the requests undici cannot carry; created on first use. */
  get agent(): UpstreamAgent {
    this.agentInstance ??= new UpstreamAgent(this.options.connectTimeoutMs, {
      keepAlive: true,
      maxSockets: this.options.maxSocketsPerUpstream,
      maxFreeSockets: Math.min(64, this.options.maxSocketsPerUpstream),
      scheduling: 'lifo',
      timeout: this.options.idleMs ?? 30_000,
    }, this.target);
    return this.agentInstance;
  }

  /** For a WebSocket tunnel to a meshed peer: an agent whose one connection is mTLS (undefined = a plain dedicated connection). */
  tunnelAgent(): UpstreamAgent | undefined {
    return this.target.secure ? new UpstreamAgent(this.options.connectTimeoutMs, { keepAlive: false }, this.target) : undefined;
  }

  connectionCount(): number {
    let n = this.pool.stats.connected;
    const agent = this.agentInstance;
    if (agent) {
      for (const list of Object.values(agent.sockets)) n += list?.length ?? 0;
      for (const list of Object.values(agent.freeSockets)) n += list?.length ?? 0;
    }
    return n;
  }

  /** Closes idle connections; requests in flight finish first (used for LRU eviction and drain). */
  closeIdle(): void {
    if (this.agentInstance) destroyFree(this.agentInstance);
  }

  /** Stops taking requests: idle connections close now, busy ones after their response. */
  retire(): void {
    void this.pool.close().catch(() => undefined);
    this.closeIdle();
  }

  destroy(): void {
    void this.pool.destroy().catch(() => undefined);
    this.agentInstance?.destroy();
  }
}

export class UpstreamPools {
  private readonly upstreams = new Map<string, Upstream>();
  private lastKey = '';
  private last: Upstream | undefined;

  constructor(private readonly options: PoolOptions) {}

  /** The upstream for a target, created on first use; moves it to the most recently used end. */
  upstreamFor(target: Target): Upstream {
    let key = target.localAddress ? `${target.host}:${target.port}@${target.localAddress}` : `${target.host}:${target.port}`;
    // Pools are per endpoint and identity: a connection verified for one SPIFFE ID never serves another.
    if (target.secure) key += `#${target.secure.expect}`;
    // Most requests go where the previous one went: skip the delete/set of the LRU bookkeeping then.
    if (key === this.lastKey && this.last) return this.last;
    let upstream = this.upstreams.get(key);
    if (upstream) {
      this.upstreams.delete(key);
    } else {
      upstream = new Upstream(target, this.options);
      if (this.upstreams.size >= this.options.maxPools) {
        const [oldestKey, oldest] = this.upstreams.entries().next().value as [string, Upstream];
        this.upstreams.delete(oldestKey);
        oldest.retire();
      }
    }
    this.upstreams.set(key, upstream);
    this.lastKey = key;
    this.last = upstream;
    return upstream;
  }

  /** The fallback http.Agent for host:port (see Upstream#agent). */
  agentFor(host: string, port: number, localAddress?: string): UpstreamAgent {
    return this.upstreamFor({ host, port, ...(localAddress ? { localAddress } : {}) }).agent;
  }

  get size(): number {
    return this.upstreams.size;
  }

  /** Open connections (busy + idle) across all pools; used by tests and /stats. */
  connectionCount(): number {
    let n = 0;
    for (const upstream of this.upstreams.values()) n += upstream.connectionCount();
    return n;
  }

  closeIdle(): void {
    for (const upstream of this.upstreams.values()) upstream.closeIdle();
  }

  destroy(): void {
    for (const upstream of this.upstreams.values()) upstream.destroy();
    this.upstreams.clear();
    this.last = undefined;
    this.lastKey = '';
  }
}

function destroyFree(agent: http.Agent): void {
  for (const list of Object.values(agent.freeSockets)) for (const socket of list ?? []) socket.destroy();
}
