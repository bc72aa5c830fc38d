// Consistent hashing on a ring (ketama): each endpoint owns POINTS_PER_ENDPOINT points placed by hashing
// "<host:port>#<i>"; a key goes to the owner of the first point at or after its hash. The points depend
// only on the endpoint's own key, so when an endpoint leaves only the keys it owned move (about 1/n).
// An excluded owner passes the key on clockwise to the next endpoint that is not excluded. Without a key
// (the header or cookie absent) the pick is round robin.
import { roundRobin } from './round-robin.js';
import type { Balanced, Balancer, Exclude } from './types.js';

export const POINTS_PER_ENDPOINT = 160;

/** FNV-1a 32-bit with a final avalanche (murmur3 fmix32), over the UTF-16 code units. */
export function hash32(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

export function ringHash<E extends Balanced>(endpoints: readonly E[]): Balancer<E> {
  const points: { hash: number; owner: number }[] = [];
  endpoints.forEach((e, owner) => {
    for (let i = 0; i < POINTS_PER_ENDPOINT; i++) points.push({ hash: hash32(`${e.key}#${i}`), owner });
  });
  // Ties broken by the owner's key so that the ring does not depend on the endpoints' order.
  points.sort((a, b) => a.hash - b.hash || ((endpoints[a.owner] as E).key < (endpoints[b.owner] as E).key ? -1 : 1));
  const hashes = Uint32Array.from(points, (p) => p.hash);
  const owners = Uint32Array.from(points, (p) => p.owner);
  const fallback = roundRobin(endpoints);
  return {
    endpoints,
    pick(key: string | undefined, exclude?: Exclude<E>): E | undefined {
      if (key === undefined || hashes.length === 0) return fallback.pick(undefined, exclude);
      const h = hash32(key);
      let lo = 0;
      let hi = hashes.length;
      while (lo < hi) {
        const mid = (lo + hi) >>> 1;
        if ((hashes[mid] as number) < h) lo = mid + 1; else hi = mid;
      }
      for (let i = 0; i < hashes.length; i++) {
        const e = endpoints[owners[(lo + i) % hashes.length] as number] as E;
        if (!exclude || !exclude(e)) return e;
      }
      return undefined;
    },
  };
}
