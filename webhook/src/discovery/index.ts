// Discovery in skein-cp (docs/discovery.md): the cluster view (skein-local's store or Kubernetes
// informers), the snapshot one sidecar needs, and the Discovery.Watch gRPC service that streams it.
export type { ClusterSource, ClusterState, MeshObject } from './types.js';
export { localStoreSource } from './local-store.js';
export { kubeInformerSource } from './kube-informers.js';
export { podLookupFrom } from './pod-lookup.js';
export { meshSettingsFrom, type MeshSettings } from './mesh-settings.js';
export { buildSnapshot, encodeSnapshot, spiffeIdOf } from './snapshot.js';
export { createDiscoveryService, DISCOVERY_SERVICE_DEFINITION, type DiscoveryService } from './watch-service.js';
