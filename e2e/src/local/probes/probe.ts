// One probe attempt, as kubelet makes it: httpGet, tcpSocket and grpc from the host to the pod IP, exec
// inside the container. Also used for lifecycle hooks (postStart/preStop; they have no grpc).
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { connect } from 'node:net';
import type { ContainerPort, LifecycleHandler, Probe } from '../model/types.js';
import { grpcHealthCheck } from './grpc.js';

export interface ProbeTarget {
  podIP: string;
  ports: readonly ContainerPort[];
  /** Runs argv inside the container; resolves with the exit code. */
  exec: (argv: string[], timeoutMs: number) => Promise<number>;
}

export function resolvePort(port: number | string, ports: readonly ContainerPort[]): number {
  if (typeof port === 'number') return port;
  if (/^\d+$/.test(port)) return Number(port);
  const p = ports.find((x) => x.name === port);
  if (!p) throw new Error(`named port "${port}" is not declared by the container`);
  return p.containerPort;
}

/** True when the handler succeeds within timeoutMs. Never throws. */
export async function runHandler(h: Probe | LifecycleHandler, t: ProbeTarget, timeoutMs: number): Promise<boolean> {
  try {
    if (h.exec) return (await t.exec(h.exec.command ?? [], timeoutMs)) === 0;
    if (h.httpGet) return await httpGet(h.httpGet, t, timeoutMs);
    if (h.tcpSocket) return await tcp(h.tcpSocket.host ?? t.podIP, resolvePort(h.tcpSocket.port, t.ports), timeoutMs);
    if ('grpc' in h && h.grpc) return (await grpcHealthCheck(t.podIP, h.grpc.port, h.grpc.service ?? '', timeoutMs)).ok;
    return false;
  } catch {
    return false;
  }
}

function httpGet(g: NonNullable<Probe['httpGet']>, t: ProbeTarget, timeoutMs: number): Promise<boolean> {
  const https = (g.scheme ?? 'HTTP').toUpperCase() === 'HTTPS';
  const headers: Record<string, string> = { 'user-agent': 'kube-probe/skein-local', accept: '*/*' };
  for (const h of g.httpHeaders ?? []) headers[h.name.toLowerCase()] = h.value;
  const opts = { host: g.host ?? t.podIP, port: resolvePort(g.port, t.ports), path: g.path ?? '/', method: 'GET', headers, timeout: timeoutMs, agent: false as const };
  return new Promise((resolvePromise) => {
    const req = https
      ? httpsRequest({ ...opts, rejectUnauthorized: false }, onRes)
      : httpRequest(opts, onRes);
    function onRes(res: IncomingMessage): void {
      res.resume();
      resolvePromise(res.statusCode !== undefined && res.statusCode >= 200 && res.statusCode < 400);
    }
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolvePromise(false));
    req.end();
  });
}

function tcp(host: string, port: number, timeoutMs: number): Promise<boolean> {
  return new Promise((resolvePromise) => {
    const s = connect({ host, port, timeout: timeoutMs });
    s.once('connect', () => { s.destroy(); resolvePromise(true); });
    s.once('timeout', () => { s.destroy(); resolvePromise(false); });
    s.once('error', () => resolvePromise(false));
  });
}
