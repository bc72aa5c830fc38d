// Runs an app's original probe the way the kubelet would (the injector rewrote it to
// /app-health/<container>/<kind> on 15020). The proxy's UID is excluded from capture, so these
// connections reach the app directly. Results: ok (→ 200) or a reason (→ 503).
//
// @grpc/grpc-js (65 modules, ~40 ms and ~5 MB at start-up) and node:https are imported on the first
// probe that needs them: most pods have neither kind, and a sidecar should not pay for them before it
// is ready (start-up and idle memory targets, docs/dataplane.md).
import http from 'node:http';
import net from 'node:net';
import { INBOUND_SOURCE } from '../contract.js';
import type { AppProbe, GrpcAction, HttpGetAction, TcpSocketAction } from '../config/probes.js';

export interface ProbeResult { ok: boolean; detail: string }

/**
 * A probe of the pod's own IP binds the inbound source address (127.0.0.6 / ::6) so that skein-dp init's
 * rules let it reach the app directly instead of sending it through the inbound listener
 * (docs/capture.md rule 4). gRPC probes cannot choose their source and do go through inbound (as TCP).
 */
function sourceFor(host: string, defaultHost: string): { localAddress?: string } {
  if (host !== defaultHost || net.isIP(host) === 0 || host.startsWith('127.') || host === '::1') return {};
  return { localAddress: INBOUND_SOURCE[net.isIPv6(host) ? 6 : 4] };
}

export function runProbe(probe: AppProbe, defaultHost: string): Promise<ProbeResult> {
  switch (probe.action.type) {
    case 'httpGet': return httpProbe(probe.action, defaultHost, probe.timeoutMs);
    case 'tcpSocket': return tcpProbe(probe.action, defaultHost, probe.timeoutMs);
    case 'grpc': return grpcProbe(probe.action, defaultHost, probe.timeoutMs);
  }
}

/** kubelet semantics: 200–399 is success; HTTPS certificates are not verified; at most 10 KiB of body read. */
async function httpProbe(action: HttpGetAction, defaultHost: string, timeoutMs: number): Promise<ProbeResult> {
  const client = action.scheme === 'HTTPS' ? await import('node:https') : http;
  return new Promise((resolve) => {
    const headers: Record<string, string> = { 'user-agent': 'kube-probe/skein', accept: '*/*' };
    for (const h of action.headers) headers[h.name.toLowerCase()] = h.value;
    const host = action.host ?? defaultHost;
    if (headers['host'] === undefined) headers['host'] = net.isIPv6(host) ? `[${host}]:${action.port}` : `${host}:${action.port}`;
    const req = client.request({
      host, port: action.port, path: action.path.startsWith('/') ? action.path : `/${action.path}`, method: 'GET',
      headers, agent: false, timeout: timeoutMs, ...sourceFor(host, defaultHost), ...(action.scheme === 'HTTPS' ? { rejectUnauthorized: false } : {}),
    }, (res) => {
      const status = res.statusCode ?? 0;
      let read = 0;
      res.on('data', (chunk: Buffer) => { read += chunk.length; if (read > 10 * 1024) res.destroy(); });
      res.on('close', () => resolve({ ok: status >= 200 && status < 400, detail: `HTTP ${status}` }));
      res.on('error', () => undefined);
    });
    req.on('timeout', () => req.destroy(new Error(`timed out after ${timeoutMs} ms`)));
    req.on('error', (err) => resolve({ ok: false, detail: err.message }));
    req.end();
  });
}

function tcpProbe(action: TcpSocketAction, defaultHost: string, timeoutMs: number): Promise<ProbeResult> {
  return new Promise((resolve) => {
    const host = action.host ?? defaultHost;
    const socket = net.connect({ host, port: action.port, ...sourceFor(host, defaultHost) });
    const timer = setTimeout(() => socket.destroy(new Error(`timed out after ${timeoutMs} ms`)), timeoutMs);
    socket.once('connect', () => { clearTimeout(timer); socket.end(); resolve({ ok: true, detail: 'connected' }); });
    socket.once('error', (err) => { clearTimeout(timer); resolve({ ok: false, detail: err.message }); });
  });
}

/**
 * The standard grpc.health.v1.Health/Check, as the kubelet's grpc probe calls it. The two messages are
 * tiny, so they are encoded by hand instead of loading a .proto: HealthCheckRequest{service=1:string},
 * HealthCheckResponse{status=1:enum}, SERVING = 1.
 */
async function grpcProbe(action: GrpcAction, defaultHost: string, timeoutMs: number): Promise<ProbeResult> {
  const grpc = await import('@grpc/grpc-js');
  return new Promise((resolve) => {
    const address = net.isIPv6(defaultHost) ? `[${defaultHost}]:${action.port}` : `${defaultHost}:${action.port}`;
    const client = new grpc.Client(address, grpc.credentials.createInsecure());
    client.makeUnaryRequest<string, number>(
      '/grpc.health.v1.Health/Check',
      encodeHealthRequest, decodeHealthStatus, action.service, new grpc.Metadata(),
      { deadline: Date.now() + timeoutMs },
      (err, status) => {
        client.close();
        if (err) return resolve({ ok: false, detail: `gRPC ${grpc.status[err.code] ?? err.code}: ${err.details}` });
        resolve({ ok: status === 1, detail: `status ${HEALTH_STATUS[status ?? 0] ?? status}` });
      },
    );
  });
}

const HEALTH_STATUS = ['UNKNOWN', 'SERVING', 'NOT_SERVING', 'SERVICE_UNKNOWN'];

export function encodeHealthRequest(service: string): Buffer {
  const bytes = Buffer.from(service, 'utf8');
  return bytes.length === 0 ? Buffer.alloc(0) : Buffer.concat([Buffer.from([0x0a]), varint(bytes.length), bytes]);
}

export function encodeHealthResponse(status: number): Buffer {
  return status === 0 ? Buffer.alloc(0) : Buffer.from([0x08, status]);
}

/** Reads field 1 (varint) of a HealthCheckResponse; skips unknown fields; absent = UNKNOWN (0). */
export function decodeHealthStatus(buf: Buffer): number {
  let i = 0;
  let status = 0;
  const readVarint = (): number => {
    let value = 0;
    let shift = 0;
    for (;;) {
      if (i >= buf.length) throw new Error('truncated varint');
      const b = buf[i++] as number;
      value += (b & 0x7f) * 2 ** shift;
      if ((b & 0x80) === 0) return value;
      shift += 7;
      if (shift > 63) throw new Error('varint too long');
    }
  };
  while (i < buf.length) {
    const key = readVarint();
    const field = Math.floor(key / 8);
    const wire = key & 7;
    if (wire === 0) { const v = readVarint(); if (field === 1) status = v; }
    else if (wire === 2) { i += readVarint(); }
    else if (wire === 1) i += 8;
    else if (wire === 5) i += 4;
    else throw new Error(`unsupported wire type ${wire}`);
  }
  return status;
}

function varint(n: number): Buffer {
  const out: number[] = [];
  let v = n;
  while (v >= 0x80) { out.push((v & 0x7f) | 0x80); v = Math.floor(v / 128); }
  out.push(v);
  return Buffer.from(out);
}
