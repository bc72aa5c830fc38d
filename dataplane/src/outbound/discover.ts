// Where an outbound connection goes. The seam for discovery (Services → endpoints, meshed pods → mTLS):
// until the discovery client exists every destination is passthrough to the original address.
import type { Destination } from '../transport/resolver.js';

export type Route =
  | { kind: 'passthrough'; host: string; port: number };

export function discover(dst: Destination): Route {
  return { kind: 'passthrough', host: dst.address, port: dst.port };
}
