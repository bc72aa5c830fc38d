// Least request, power of two random choices: two distinct endpoints at random, the one with fewer
// requests (HTTP) or connections (TCP) in flight wins. With exclusions, the candidates are the endpoints
// left. `random` is injectable for tests (Math.random by default).
import type { Balanced, Balancer, Exclude } from './types.js';

export function leastRequest<E extends Balanced>(endpoints: readonly E[], random: () => number = Math.random): Balancer<E> {
  const candidates: E[] = [];
  return {
    endpoints,
    pick(_key: string | undefined, exclude?: Exclude<E>): E | undefined {
      let list: readonly E[] = endpoints;
      if (exclude) {
        candidates.length = 0;
        for (const e of endpoints) if (!exclude(e)) candidates.push(e);
        list = candidates;
      }
      const n = list.length;
      if (n === 0) return undefined;
      if (n === 1) return list[0];
      const i = Math.floor(random() * n) % n;
      let j = Math.floor(random() * (n - 1)) % (n - 1);
      if (j >= i) j++;
      const a = list[i] as E;
      const b = list[j] as E;
      return b.load.inFlight < a.load.inFlight ? b : a;
    },
  };
}
