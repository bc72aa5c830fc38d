// Test helpers (not product code): start a proxy on free loopback ports with an injected resolver, read
// its log lines, and small socket utilities. Used by the *.test.ts files of the dataplane.
import net from 'node:net';
import http from 'node:http';
import { Writable } from 'node:stream';
import { parseRunConfig, type RunConfig } from '../config/index.js';
import { createLogControl } from '../log/index.js';
import { startProxy, type RunningProxy } from '../lifecycle/run.js';
import type { OrigDstResolver } from '../transport/resolver.js';

export interface TestProxy { proxy: RunningProxy; logs: Array<Record<string, unknown>>; config: RunConfig; close(): Promise<void> }

export async function startTestProxy(
  resolver: OrigDstResolver, flags: string[] = [], overrides: Partial<RunConfig> = {}, env: Record<string, string> = {},
): Promise<TestProxy> {
  const config = {
    ...parseRunConfig(['--outbound-port', '0', '--inbound-port', '0', '--admin-port', '0', '--health-port', '0',
      '--bind-address', '127.0.0.1', '--log-level', 'debug', ...flags], { POD_IP: '127.0.0.1', ...env }),
    ...overrides,
  };
  const logs: Array<Record<string, unknown>> = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const line of chunk.toString('utf8').split('\n')) if (line.trim()) logs.push(JSON.parse(line) as Record<string, unknown>);
      done();
    },
  });
  const logControl = createLogControl(config.logLevel, sink);
  const proxy = await startProxy(config, { logs: logControl, resolver });
  return { proxy, logs, config, close: () => proxy.shutdown(0) };
}

const tracked = new WeakMap<net.Server, Set<net.Socket>>();

/** Listens on a free port and remembers the server's connections so closeServer can end them. */
export function listenOn(server: net.Server, host = '127.0.0.1'): Promise<number> {
  const sockets = new Set<net.Socket>();
  tracked.set(server, sockets);
  server.on('connection', (socket: net.Socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });
  return new Promise((resolve) => server.listen(0, host, () => resolve((server.address() as net.AddressInfo).port)));
}

export function closeServer(server: net.Server): Promise<void> {
  return new Promise((resolve) => {
    if (server instanceof http.Server) server.closeAllConnections();
    for (const socket of tracked.get(server) ?? []) socket.destroy();
    if (!server.listening) return resolve();
    server.close(() => resolve());
  });
}

/** Sends raw bytes, half-closes, and collects everything the peer sends until it closes. */
export function rawExchange(port: number, bytes: string | Buffer, options: { end?: boolean; host?: string } = {}): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ port, host: options.host ?? '127.0.0.1', allowHalfOpen: true });
    let data = '';
    socket.on('connect', () => { socket.write(bytes); if (options.end !== false) socket.end(); });
    socket.on('data', (chunk) => { data += chunk.toString('latin1'); });
    socket.on('end', () => socket.end());
    socket.on('error', (err) => (data ? resolve(data) : reject(err)));
    socket.on('close', () => resolve(data));
    socket.setTimeout(10_000, () => socket.destroy(new Error('rawExchange timed out')));
  });
}

/** A TCP server that records every byte it receives; `handler` decides what to answer. */
export function recordingServer(handler: (socket: net.Socket) => void = (s) => s.pipe(s)): { server: net.Server; received: Buffer[] } {
  const received: Buffer[] = [];
  const server = net.createServer({ allowHalfOpen: true }, (socket) => {
    socket.on('data', (chunk: Buffer) => received.push(chunk));
    socket.on('error', () => undefined);
    handler(socket);
  });
  return { server, received };
}

export function waitFor(predicate: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
  return new Promise((resolve, reject) => {
    const started = Date.now();
    const tick = (): void => {
      if (predicate()) return resolve();
      if (Date.now() - started > timeoutMs) return reject(new Error(`timed out waiting for ${what}`));
      setTimeout(tick, 10);
    };
    tick();
  });
}
