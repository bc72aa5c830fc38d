// What the discovery parts of skein-cp share: the cluster state the snapshot builder reads and the
// sources that keep it (skein-local's object store, or Kubernetes informers). Types only.
import type { V1EndpointSlice, V1Namespace, V1Pod, V1Service } from '@kubernetes/client-node';
import type { TrafficPermissionObject } from '../policy/types.js';

/** skein.io/v1alpha1 Mesh (cluster scoped), as stored: the CRD's defaults are applied by the API server. */
export interface MeshObject {
  apiVersion?: string;
  kind?: string;
  metadata?: { name?: string; resourceVersion?: string; generation?: number };
  spec?: { mtls?: { mode?: string; certTTL?: string }; defaultAction?: string };
}

/** Everything the snapshot builder reads, keyed "<ns>/<name>" (cluster-scoped kinds: "/<name>"). */
export interface ClusterState {
  readonly pods: ReadonlyMap<string, V1Pod>;
  readonly services: ReadonlyMap<string, V1Service>;
  readonly endpointSlices: ReadonlyMap<string, V1EndpointSlice>;
  readonly namespaces: ReadonlyMap<string, V1Namespace>;
  readonly meshes: ReadonlyMap<string, MeshObject>;
  /** skein.io/v1alpha1 TrafficPermission objects as stored (validated by policy/validate.ts, not here). */
  readonly trafficPermissions: ReadonlyMap<string, TrafficPermissionObject>;
  /** Bumps on every change of any map. */
  readonly version: number;
}

export interface ClusterSource {
  /** Resolves after the first full list of every kind (rejects when that list is impossible). */
  start(): Promise<void>;
  /** The current state; its maps are the source's own (read, never write). */
  state(): ClusterState;
  /** Called after each change (possibly once for several); returns an unsubscribe function. */
  onChange(listener: () => void): () => void;
  stop(): Promise<void>;
}

export type KindName = 'pods' | 'services' | 'endpointSlices' | 'namespaces' | 'meshes' | 'trafficPermissions';

export const objectKey = (namespace: string | undefined, name: string | undefined): string => `${namespace ?? ''}/${name ?? ''}`;
