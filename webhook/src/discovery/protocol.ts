// The protocol hint of a port, as Kubernetes users already write it: a Service port's appProtocol
// (`http`, `kubernetes.io/h2c`, `tcp`, ...) wins, else the port name's prefix (Istio's convention:
// `http`, `http-*`, `grpc*`, `tcp*`, and the names of well-known opaque protocols), else detect.
import { Protocol } from '@skein/api';

const APP_PROTOCOL: Readonly<Record<string, Protocol>> = {
  http: Protocol.PROTOCOL_HTTP,
  'kubernetes.io/h2c': Protocol.PROTOCOL_HTTP2,
  http2: Protocol.PROTOCOL_HTTP2,
  h2c: Protocol.PROTOCOL_HTTP2,
  grpc: Protocol.PROTOCOL_HTTP2,
  'grpc-web': Protocol.PROTOCOL_HTTP,
  tcp: Protocol.PROTOCOL_TCP,
  // TLS from the app: opaque to the mesh (its bytes are not HTTP the sidecar could parse).
  https: Protocol.PROTOCOL_TCP,
  tls: Protocol.PROTOCOL_TCP,
  'kubernetes.io/ws': Protocol.PROTOCOL_HTTP,
  'kubernetes.io/wss': Protocol.PROTOCOL_TCP,
};

/** Name prefixes (before the first '-') that mean an opaque, often server-speaks-first, protocol. */
const OPAQUE_NAMES = new Set(['tcp', 'tls', 'https', 'mysql', 'mariadb', 'redis', 'mongo', 'mongodb', 'postgres', 'postgresql', 'smtp', 'smtps', 'ssh', 'amqp', 'kafka', 'memcache', 'memcached', 'nats', 'zookeeper', 'ldap', 'mqtt']);

/** From a port name alone (container ports, Service ports without appProtocol). */
export function protocolFromName(name: string | undefined): Protocol {
  if (!name) return Protocol.PROTOCOL_UNSPECIFIED;
  const n = name.toLowerCase();
  const prefix = n.split('-')[0] ?? '';
  if (prefix === 'http') return Protocol.PROTOCOL_HTTP;
  if (prefix === 'http2' || prefix === 'h2c' || n.startsWith('grpc')) return Protocol.PROTOCOL_HTTP2;
  if (prefix.startsWith('tcp') || OPAQUE_NAMES.has(prefix)) return Protocol.PROTOCOL_TCP;
  return Protocol.PROTOCOL_UNSPECIFIED;
}

/** A Service port: appProtocol when Skein knows it, else the name. An unknown appProtocol is detected. */
export function servicePortProtocol(port: { name?: string; appProtocol?: string }): Protocol {
  if (port.appProtocol) return APP_PROTOCOL[port.appProtocol.toLowerCase()] ?? Protocol.PROTOCOL_UNSPECIFIED;
  return protocolFromName(port.name);
}
