// The dataplane's names and numbers from DESIGN.md and docs/contracts.md, in one module that both
// `skein-dp init` and `skein-dp run` import (they were written down twice). Pure constants: no imports,
// so init can use it without loading anything of the proxy.

/** Listener ports in the pod: outbound capture, inbound capture, admin (127.0.0.1 only), health + metrics. */
export const PORTS = { outbound: 15001, inbound: 15006, admin: 15000, health: 15020 } as const;

/** UID and GID the proxy runs as; init lets that UID's own traffic out uncaptured. */
export const PROXY_UID = 5678;
export const PROXY_GID = 5678;

/**
 * Source address of the inbound proxy's connections to the app, per IP family (Istio's 127.0.0.6).
 * init's rules let traffic from it over `lo` reach the app instead of looping into 15006 (capture.md rule 4);
 * init also puts ::6 on lo, since Linux gives lo only ::1 of IPv6.
 */
export const INBOUND_SOURCE = { 4: '127.0.0.6', 6: '::6' } as const;
