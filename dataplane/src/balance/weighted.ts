// Smooth weighted round robin (nginx): every pick adds each endpoint's weight to its current value, the
// highest wins and loses the total. Over sum(weights) picks each endpoint is chosen weight times, spread
// out rather than in bursts. Excluded endpoints sit the pick out.
import type { Balanced, Balancer, Exclude } from './types.js';

export function weighted<E extends Balanced>(endpoints: readonly E[]): Balancer<E> {
  const current = new Float64Array(endpoints.length);
  return {
    endpoints,
    pick(_key: string | undefined, exclude?: Exclude<E>): E | undefined {
      let best = -1;
      let total = 0;
      for (let i = 0; i < endpoints.length; i++) {
        const e = endpoints[i] as E;
        if (exclude && exclude(e)) continue;
        current[i] = (current[i] as number) + e.weight;
        total += e.weight;
        if (best < 0 || (current[i] as number) > (current[best] as number)) best = i;
      }
      if (best < 0) return undefined;
      current[best] = (current[best] as number) - total;
      return endpoints[best];
    },
  };
}
