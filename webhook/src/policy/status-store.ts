// Where a TrafficPermission's status goes (reporter.ts decides what and when): the API server's status
// subresource in Kubernetes mode (status-kube.ts), files beside skein-cp's state in local mode
// (status-local.ts). Types only.
import type { Condition, TrafficPermissionObject } from './types.js';

export interface PolicyStatus {
  observedGeneration?: number;
  conditions: Condition[];
}

export interface StatusStore {
  /** Reads what is stored already (once, before the first pass). */
  init?(): Promise<void>;
  /** The status stored for this object now, as far as skein-cp can see it. */
  stored(key: string, o: TrafficPermissionObject): TrafficPermissionObject['status'] | undefined;
  /** Stores it. Resolves false when the object changed or went away meanwhile (a later pass writes again). */
  write(key: string, o: TrafficPermissionObject, status: PolicyStatus): Promise<boolean>;
  /** Every object that exists, by key: a store may drop what it holds for others (local mode's files). */
  sweep?(live: ReadonlySet<string>): Promise<void>;
}
