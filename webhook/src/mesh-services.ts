// The mesh's own services of skein-cp: the CA, the token verifier, the cluster view, and the two gRPC
// services built from them (Identity.Certify, Discovery.Watch). Local mode reads skein-local's store
// and token key; Kubernetes mode the API server. main.ts starts this once the serving certificate
// exists and hands the services to the gRPC listener.
import type { CpConfig } from './config/index.js';
import type { CpMetrics } from './health/metrics.js';
import type { KubeMode } from './kube/index.js';
import type { Logger } from './log.js';
import type { MeshServices } from './server.js';
import { startKubeMeshCa, startLocalMeshCa, startCaRootPublisher, type MeshCa } from './identity/ca/index.js';
import { createIdentityService, kubeTokenVerifier, localTokenVerifier } from './identity/certify/index.js';
import {
  createDiscoveryService, kubeInformerSource, localStoreSource, meshSettingsFrom, podLookupFrom, type ClusterSource,
} from './discovery/index.js';
import type { TokenVerifier } from './identity/types.js';

export interface RunningMeshServices {
  readonly services: MeshServices;
  stop(): Promise<void>;
}

interface Parts { ca: MeshCa; source: ClusterSource; verifier: TokenVerifier; stopExtra?: () => Promise<void> }

async function localParts(config: CpConfig, root: Logger): Promise<Parts | undefined> {
  if (config.localStore === undefined || config.tokenPublicKey === undefined || config.stateDir === undefined) return undefined;
  const ca = await startLocalMeshCa({ stateDir: config.stateDir, trustDomain: config.trustDomain, log: root.child({ component: 'mesh-ca' }) });
  const source = localStoreSource({ dir: config.localStore, log: root.child({ component: 'discovery-source' }) });
  const verifier = localTokenVerifier({ publicKeyPath: config.tokenPublicKey, trustDomain: config.trustDomain, pods: podLookupFrom(source) });
  return { ca, source, verifier };
}

async function kubeParts(config: CpConfig, root: Logger, kube: KubeMode, controlPlaneCaPem: () => string): Promise<Parts> {
  const ca = await startKubeMeshCa({
    io: kube.io, namespace: config.namespace, trustDomain: config.trustDomain, isLeader: () => kube.isLeader(), log: root.child({ component: 'mesh-ca' }),
  });
  const source = kubeInformerSource({ io: kube.io, log: root.child({ component: 'discovery-source' }) });
  const verifier = kubeTokenVerifier({ io: kube.io, trustDomain: config.trustDomain, pods: podLookupFrom(source) });
  const publisher = startCaRootPublisher({ io: kube.io, ca, controlPlaneCaPem, isLeader: () => kube.isLeader(), log: root.child({ component: 'ca-root-publisher' }) });
  return { ca, source, verifier, stopExtra: () => publisher.stop() };
}

/**
 * Local mode without --local-store (skein-cp run on its own, e.g. the admission bench) serves no mesh
 * services: they answer UNIMPLEMENTED, as before.
 */
export async function startMeshServices(
  config: CpConfig, root: Logger, metrics: CpMetrics, kube: KubeMode | undefined, controlPlaneCaPem: () => string,
): Promise<RunningMeshServices> {
  const parts = kube ? await kubeParts(config, root, kube, controlPlaneCaPem) : await localParts(config, root);
  if (!parts) return { services: {}, stop: async () => undefined };
  const { ca, source, verifier } = parts;
  await source.start();
  const settings = meshSettingsFrom(source, config.trustDomain);
  const identity = createIdentityService({
    ca: () => ca, verifier, meshSettings: settings, metrics: { registry: metrics.registry }, log: root.child({ component: 'identity' }),
  });
  const discovery = createDiscoveryService({
    source, verifier, trustDomain: config.trustDomain, trustAnchors: () => ca.trustAnchorsPem(),
    onTrustAnchorsChange: (listener) => ca.onTrustAnchorsChange(() => listener()),
    log: root.child({ component: 'discovery' }), metrics: { registry: metrics.registry },
  });
  return {
    services: { identity, discovery },
    stop: async () => {
      discovery.closeAll();
      await parts.stopExtra?.();
      await source.stop();
      await ca.stop();
    },
  };
}
