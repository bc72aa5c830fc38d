// What the TrafficPermission parts of skein-cp share (docs/policy.md): the object as stored, and the
// verdict of its validation (what is sent to sidecars, and what its status says). Types only.
import type { discovery } from '@skein/api';

/** skein.io/v1alpha1 TrafficPermission (namespaced), as stored; fields are unknown until validated. */
export interface TrafficPermissionObject {
  apiVersion?: string;
  kind?: string;
  metadata?: { name?: string; namespace?: string; resourceVersion?: string; generation?: number; uid?: string };
  spec?: unknown;
  status?: { observedGeneration?: number; conditions?: Condition[] };
}

/** metav1.Condition as the CRD's status schema holds it. */
export interface Condition {
  type: string;
  status: 'True' | 'False' | 'Unknown';
  reason: string;
  message: string;
  observedGeneration?: number;
  lastTransitionTime?: string;
}

export interface MatchExpression { readonly key: string; readonly operator: 'In' | 'NotIn' | 'Exists' | 'DoesNotExist'; readonly values: readonly string[] }

/** A parsed label selector; empty = every pod of the namespace. */
export interface Selector {
  readonly matchLabels: Readonly<Record<string, string>>;
  readonly matchExpressions: readonly MatchExpression[];
}

/**
 * What a TrafficPermission becomes:
 * - `enforced`: valid, sent as written;
 * - `deny-all`: an invalid Deny (or an invalid object whose action is not Allow): sent as a Deny of
 *   every source, port, method and path for its selector (fail closed);
 * - `allow-nothing`: an invalid Allow: sent as an Allow that matches no request (port 0, which no
 *   connection has), so the workloads it selects still need another Allow and fall back to the Mesh
 *   default no more than before (dropping it could turn "only frontend" into the default Allow).
 */
export type Effect = 'enforced' | 'deny-all' | 'allow-nothing';

export interface Verdict {
  readonly namespace: string;
  readonly name: string;
  readonly generation: number | undefined;
  /** What makes it invalid (empty: valid), each naming the field and what to write instead. */
  readonly problems: readonly string[];
  /** Valid but probably not what was meant (a literal ".*", methods or paths on an opaque port). */
  readonly warnings: readonly string[];
  readonly effect: Effect;
  /** Which pods of the namespace it applies to (an unreadable selector selects them all: fail closed). */
  readonly selector: Selector;
  /** The rule sent in Snapshot.policies to the sidecars of the pods it selects. */
  readonly wire: discovery.TrafficPermission;
}
