// Round robin: each pick takes the next endpoint, skipping the excluded ones.
import type { Balanced, Balancer, Exclude } from './types.js';

export function roundRobin<E extends Balanced>(endpoints: readonly E[]): Balancer<E> {
  let next = 0;
  return {
    endpoints,
    pick(_key: string | undefined, exclude?: Exclude<E>): E | undefined {
      const n = endpoints.length;
      for (let i = 0; i < n; i++) {
        const e = endpoints[next] as E;
        next = next + 1 === n ? 0 : next + 1;
        if (!exclude || !exclude(e)) return e;
      }
      return undefined;
    },
  };
}
