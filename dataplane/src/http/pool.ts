// Keep-alive connection pools to upstreams, one http.Agent per host:port. Connection reuse is the main
// performance lever (performance.md §3: http-proxy's published 409 req/s is what no keep-alive costs).
// The number of pools is bounded (least recently used one is closed) because the keys come from
// original destinations the app chose.
import http from 'node:http';
import net from 'node:net';
import { UpstreamConnectTimeoutError } from '../errors.js';

export interface PoolOptions {
  maxSocketsPerUpstream: number;
  maxPools: number;
  connectTimeoutMs: number;
  /** How long an idle pooled connection is kept (shorter than typical app keep-alive timeouts). */
  idleMs?: number;
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

  constructor(private readonly connectTimeoutMs: number, options: http.AgentOptions) {
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

export class UpstreamPools {
  private readonly agents = new Map<string, UpstreamAgent>();

  constructor(private readonly options: PoolOptions) {}

  /** The agent for host:port, created on first use; moves it to the most recently used end. */
  agentFor(host: string, port: number): UpstreamAgent {
    // Sources (inbound binds 127.0.0.6) are told apart inside one agent: Node's Agent#getName includes localAddress.
    const key = `${host}:${port}`;
    let agent = this.agents.get(key);
    if (agent) {
      this.agents.delete(key);
    } else {
      agent = new UpstreamAgent(this.options.connectTimeoutMs, {
        keepAlive: true,
        maxSockets: this.options.maxSocketsPerUpstream,
        maxFreeSockets: Math.min(64, this.options.maxSocketsPerUpstream),
        scheduling: 'lifo',
        timeout: this.options.idleMs ?? 30_000,
      });
      if (this.agents.size >= this.options.maxPools) {
        const [oldestKey, oldest] = this.agents.entries().next().value as [string, UpstreamAgent];
        this.agents.delete(oldestKey);
        // Idle sockets close now; sockets in use finish their request, then idle out (agent timeout).
        destroyFree(oldest);
      }
    }
    this.agents.set(key, agent);
    return agent;
  }

  get size(): number {
    return this.agents.size;
  }

  /** Open connections (busy + idle) across all pools; used by tests and /stats. */
  connectionCount(): number {
    let n = 0;
    for (const agent of this.agents.values()) {
      for (const list of Object.values(agent.sockets)) n += list?.length ?? 0;
      for (const list of Object.values(agent.freeSockets)) n += list?.length ?? 0;
    }
    return n;
  }

  closeIdle(): void {
    for (const agent of this.agents.values()) destroyFree(agent);
  }

  destroy(): void {
    for (const agent of this.agents.values()) agent.destroy();
    this.agents.clear();
  }
}

function destroyFree(agent: http.Agent): void {
  for (const list of Object.values(agent.freeSockets)) for (const socket of list ?? []) socket.destroy();
}
