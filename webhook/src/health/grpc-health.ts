// The standard gRPC health service (grpc.health.v1.Health) on the gRPC port, so Kubernetes gRPC probes
// and grpc_health_probe work. "" (the server) is SERVING while the process is up; the Skein services
// report NOT_SERVING until they are implemented, which is the truth a client should see.
import * as grpc from '@grpc/grpc-js';
import { HealthCheckResponse_ServingStatus as Status, type HealthServer, type health } from '@skein/api';

export interface GrpcHealth {
  readonly impl: HealthServer;
  set(service: string, status: Status): void;
  /** Marks everything NOT_SERVING and ends open Watch streams (graceful shutdown). */
  shutdown(): void;
}

export const INITIAL_STATUSES: ReadonlyMap<string, Status> = new Map([
  ['', Status.SERVING],
  ['skein.v1.Identity', Status.NOT_SERVING],
  ['skein.v1.Discovery', Status.NOT_SERVING],
]);

type Watcher = grpc.ServerWritableStream<health.HealthCheckRequest, health.HealthCheckResponse>;

export function healthServiceImpl(): GrpcHealth {
  const statuses = new Map(INITIAL_STATUSES);
  const watchers = new Map<string, Set<Watcher>>();

  const impl: HealthServer = {
    check: (call, callback) => {
      const status = statuses.get(call.request.service);
      if (status === undefined) {
        callback({ code: grpc.status.NOT_FOUND, details: `unknown service "${call.request.service}"` });
        return;
      }
      callback(null, { status });
    },
    list: (_call, callback) => {
      const out: Record<string, health.HealthCheckResponse> = {};
      for (const [name, status] of statuses) out[name] = { status };
      callback(null, { statuses: out });
    },
    watch: (call) => {
      const name = call.request.service;
      call.write({ status: statuses.get(name) ?? Status.SERVICE_UNKNOWN });
      let set = watchers.get(name);
      if (!set) watchers.set(name, (set = new Set()));
      set.add(call);
      call.on('cancelled', () => set.delete(call));
      call.on('close', () => set.delete(call));
    },
  };

  return {
    impl,
    set(service, status) {
      statuses.set(service, status);
      for (const w of watchers.get(service) ?? []) w.write({ status });
    },
    shutdown() {
      for (const name of statuses.keys()) statuses.set(name, Status.NOT_SERVING);
      for (const [name, set] of watchers) {
        for (const w of set) { w.write({ status: statuses.get(name) ?? Status.SERVICE_UNKNOWN }); w.end(); }
        set.clear();
      }
    },
  };
}
