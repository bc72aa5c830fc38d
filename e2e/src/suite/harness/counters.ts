// Which /stats counters mean what. The dataplane names its counters; the suite reads them through
// these patterns only, so a rename is a one-line change here.
import { sumOf, type Counters } from './stats.js';

/** Connections the sidecar accepted on its outbound listener (15001): the app's own dials. */
export const OUTBOUND_CONNECTIONS = /^outbound[._]connections[._]total$/;
/** Connections the sidecar accepted on its inbound listener (15006). */
export const INBOUND_CONNECTIONS = /^inbound[._]connections[._]total$/;
/** Connections on either listener whose original destination is the proxy's own port (a loop). */
export const LOOP_CONNECTIONS = /loop/i;
/** Opaque-port connections (protocol detection skipped). */
export const OPAQUE = /opaque/i;
/** Detections that gave up waiting for the client's first bytes. */
export const DETECT_TIMEOUTS = /detect.*timeout|timeout.*detect/i;
/** Outbound connections to a destination outside the mesh, forwarded as plain TCP. */
export const PASSTHROUGH = /passthrough/i;

export function outbound(c: Counters): number { return sumOf(c, OUTBOUND_CONNECTIONS); }
export function inbound(c: Counters): number { return sumOf(c, INBOUND_CONNECTIONS); }
