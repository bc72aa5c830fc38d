// A grpc.health.v1.Health server for tests: Check answers what `statusOf(service)` says at call time
// (a ServingStatus name), NOT_FOUND for a service it does not know (as grpc-go's health server does).
// Records every call's service and user agent.
import * as grpc from '@grpc/grpc-js';
import { decodeHealthRequest, decodeHealthStatus, encodeHealthRequest, encodeHealthResponse, SERVING_STATUS, type ServingStatusName } from '../health-codec.js';

export interface HealthCall { service: string; userAgent: string; answered: string }

export interface HealthServer {
  readonly port: number;
  readonly calls: HealthCall[];
  close(): Promise<void>;
}

// Requests are wrapped in an object: grpc-js treats a falsy deserialized request ("" for the default
// service) as no request at all.
const HEALTH: grpc.ServiceDefinition = {
  Check: {
    path: '/grpc.health.v1.Health/Check', requestStream: false, responseStream: false,
    requestSerialize: (r: { service: string }) => encodeHealthRequest(r.service),
    requestDeserialize: (b: Buffer) => ({ service: decodeHealthRequest(b) }),
    responseSerialize: encodeHealthResponse, responseDeserialize: decodeHealthStatus,
  },
};

export async function startHealthServer(host: string, port: number,
  statusOf: (service: string) => ServingStatusName | undefined, onCall: (c: HealthCall) => void = () => undefined): Promise<HealthServer> {
  const server = new grpc.Server();
  const calls: HealthCall[] = [];
  server.addService(HEALTH, {
    Check: (call: grpc.ServerUnaryCall<{ service: string }, number>, callback: grpc.sendUnaryData<number>) => {
      const service = call.request.service;
      const userAgent = String(call.metadata.get('user-agent')[0] ?? '');
      const status = statusOf(service);
      const c = { service, userAgent, answered: status ?? 'NOT_FOUND' };
      calls.push(c);
      onCall(c);
      if (status === undefined) callback({ code: grpc.status.NOT_FOUND, details: `unknown service "${service}"` });
      else callback(null, SERVING_STATUS.indexOf(status));
    },
  });
  const bound = await new Promise<number>((resolvePromise, reject) => {
    server.bindAsync(`${host.includes(':') ? `[${host}]` : host}:${port}`, grpc.ServerCredentials.createInsecure(),
      (err, p) => (err ? reject(err) : resolvePromise(p)));
  });
  return {
    port: bound,
    calls,
    close: () => new Promise((r) => server.tryShutdown(() => r())),
  };
}
