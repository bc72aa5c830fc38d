// Which /stats counters mean what. skein-dp's /stats is a flat JSON object of Prometheus samples,
// `name{label="v",…}` → value (dataplane/src/metrics). The suite reads them through these patterns
// only, so a rename is a one-line change here.
import { sumOf, type Counters } from './stats.js';

/** Connections the sidecar accepted on its outbound listener (15001): the app's own dials. */
export const OUTBOUND_CONNECTIONS = /^skein_dp_connections_total\{(?=[^}]*direction="outbound")/;
/** Connections the sidecar accepted on its inbound listener (15006). */
export const INBOUND_CONNECTIONS = /^skein_dp_connections_total\{(?=[^}]*direction="inbound")/;
/** Outbound connections on an opaque port: detection skipped. */
export const OUTBOUND_OPAQUE_PORT = /^skein_dp_protocol_detections_total\{(?=[^}]*direction="outbound")(?=[^}]*reason="opaque_port")/;
/** Outbound detections that gave up waiting for the client's first bytes. */
export const OUTBOUND_DETECT_TIMEOUTS = /^skein_dp_protocol_detections_total\{(?=[^}]*direction="outbound")(?=[^}]*reason="timeout")/;

export function outbound(c: Counters): number { return sumOf(c, OUTBOUND_CONNECTIONS); }
export function inbound(c: Counters): number { return sumOf(c, INBOUND_CONNECTIONS); }

/** HTTP requests the sidecar proxied, by direction (any status). */
export const OUTBOUND_HTTP_REQUESTS = /^skein_dp_http_requests_total\{(?=[^}]*direction="outbound")/;
export const INBOUND_HTTP_REQUESTS = /^skein_dp_http_requests_total\{(?=[^}]*direction="inbound")/;

/** Bytes proxied; rx = read from the downstream client, tx = written to it. Added when a connection closes. */
export const INBOUND_BYTES_RX = /^skein_dp_bytes_total\{(?=[^}]*direction="inbound")(?=[^}]*flow="rx")/;
export const OUTBOUND_BYTES_TX = /^skein_dp_bytes_total\{(?=[^}]*direction="outbound")(?=[^}]*flow="tx")/;
