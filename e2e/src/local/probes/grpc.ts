// The kubelet's gRPC probe (pkg/probe/grpc): grpc.health.v1.Health/Check over plaintext HTTP/2 (h2c)
// to the pod IP and the probe's port, the probe's `service` as the request's service ("" by default).
// Success only when the answer is SERVING; NOT_SERVING, UNKNOWN, SERVICE_UNKNOWN, any gRPC error
// (UNIMPLEMENTED, NOT_FOUND…), a connection error and the timeout are failures.
import * as grpc from '@grpc/grpc-js';
import { isIPv6 } from 'node:net';
import { decodeHealthStatus, encodeHealthRequest, SERVING, statusName } from './health-codec.js';

export interface GrpcProbeResult { ok: boolean; detail: string }

/** kubelet sends `kube-probe/<major>.<minor>`; skein-local names itself, as its httpGet probes do. */
export const PROBE_USER_AGENT = 'kube-probe/skein-local';

/**
 * One Health/Check within timeoutMs (connection and call together, like kubelet's single context).
 * kubelet dials with WithBlock and so keeps retrying a refused connection until the timeout; this
 * fails at the first refusal instead, which gives the same result sooner. Never throws.
 */
export function grpcHealthCheck(host: string, port: number, service: string, timeoutMs: number): Promise<GrpcProbeResult> {
  return new Promise((resolvePromise) => {
    let client: grpc.Client;
    try {
      client = new grpc.Client(isIPv6(host) ? `[${host}]:${port}` : `${host}:${port}`, grpc.credentials.createInsecure(), {
        'grpc.primary_user_agent': PROBE_USER_AGENT,
        // A pod IP is never reached through a proxy (grpc-js would otherwise honour http_proxy/grpc_proxy).
        'grpc.enable_http_proxy': 0,
        'grpc.enable_retries': 0,
      });
    } catch (err) {
      resolvePromise({ ok: false, detail: `error: ${(err as Error).message}` });
      return;
    }
    client.makeUnaryRequest<string, number>('/grpc.health.v1.Health/Check', encodeHealthRequest, decodeHealthStatus,
      service, new grpc.Metadata(), { deadline: Date.now() + timeoutMs }, (err, status) => {
        client.close();
        if (err) {
          const code = grpc.status[err.code] ?? String(err.code);
          if (err.code === grpc.status.UNIMPLEMENTED) {
            resolvePromise({ ok: false, detail: `error: this server does not implement the grpc health protocol (grpc.health.v1.Health): ${err.details}` });
          } else if (err.code === grpc.status.DEADLINE_EXCEEDED) {
            resolvePromise({ ok: false, detail: `timeout: health rpc did not complete within ${timeoutMs} ms` });
          } else {
            resolvePromise({ ok: false, detail: `error: health rpc probe failed: ${code}: ${err.details}` });
          }
          return;
        }
        const s = status ?? 0;
        resolvePromise(s === SERVING ? { ok: true, detail: 'service healthy' } : { ok: false, detail: `service unhealthy (responded with "${statusName(s)}")` });
      });
  });
}
