// The mesh's own services of skein-cp: the CA, the token verifier, the cluster view, and the two gRPC
// services built from them (Identity.Certify, Discovery.Watch). Local mode reads skein-local's store
// and token key; Kubernetes mode the API server. main.ts starts this once the serving certificate
// exists and hands the services to the gRPC listener.
import { join } from 'node:path';
import type { CpConfig } from './config/index.js';
import type { CpMetrics } from './health/metrics.js';
import type { KubeMode } from './kube/index.js';
import type { Logger } from './log.js';
import type { MeshServices } from './server.js';
import { injectedNamespacesOf, startKubeMeshCa, startLocalMeshCa, startCaRootPublisher, type MeshCa } from './identity/ca/index.js';
import { createIdentityService, kubeTokenVerifier, localTokenVerifier } from './identity/certify/index.js';
import {
  createDiscoveryService, kubeInformerSource, localStoreSource, meshSettingsFrom, podLookupFrom, type ClusterSource,
} from './discovery/index.js';
import type { TokenVerifier } from './identity/types.js';
import { kubeStatusStore, localStatusStore, startPolicyReporter, type PolicyReporter } from './policy/index.js';
import type { StatusStore } from './policy/status-store.js';

export interface RunningMeshServices {
  readonly services: MeshServices;
  /** Kubernetes mode: this replica became (or stopped being) the leader, which writes shared state. */
  onLeaderChange(leading: boolean): void;
  /** The serving certificate's CA changed: republish control-plane-ca.pem. */
  onServingCaChange(): void;
  stop(): Promise<void>;
}

interface Parts {
  ca: MeshCa; source: ClusterSource; verifier: TokenVerifier;
  /** Where TrafficPermission status goes, and whether this replica writes it. */
  statusStore: StatusStore; isLeader?: () => boolean;
  /** Kubernetes mode: re-read the CA Secret / republish skein-ca-root now. */
  kick?: () => void;
  republish?: () => void;
  stopExtra?: () => Promise<void>;
}

async function localParts(config: CpConfig, root: Logger): Promise<Parts | undefined> {
  if (config.localStore === undefined || config.tokenPublicKey === undefined || config.stateDir === undefined) return undefined;
  const ca = await startLocalMeshCa({ stateDir: config.stateDir, trustDomain: config.trustDomain, log: root.child({ component: 'mesh-ca' }) });
  const source = localStoreSource({ dir: config.localStore, log: root.child({ component: 'discovery-source' }) });
  const verifier = localTokenVerifier({ publicKeyPath: config.tokenPublicKey, trustDomain: config.trustDomain, pods: podLookupFrom(source) });
  const statusStore = localStatusStore({ statusDir: join(config.stateDir, 'status'), log: root.child({ component: 'policy-status' }) });
  return { ca, source, verifier, statusStore };
}

async function kubeParts(config: CpConfig, root: Logger, kube: KubeMode, controlPlaneCaPem: () => string, signal: AbortSignal): Promise<Parts> {
  const ca = await startKubeMeshCa({
    io: kube.io, namespace: config.namespace, trustDomain: config.trustDomain, isLeader: () => kube.isLeader(),
    log: root.child({ component: 'mesh-ca' }), signal,
  });
  const source = kubeInformerSource({ io: kube.io, log: root.child({ component: 'discovery-source' }) });
  const verifier = kubeTokenVerifier({ io: kube.io, trustDomain: config.trustDomain, pods: podLookupFrom(source) });
  // Which namespaces need skein-ca-root comes from discovery's informers, not from listing every pod.
  const publisher = startCaRootPublisher({
    io: kube.io, ca, controlPlaneCaPem, isLeader: () => kube.isLeader(), log: root.child({ component: 'ca-root-publisher' }),
    injectedNamespaces: async () => injectedNamespacesOf(source.state().namespaces.values(), source.state().pods.values()),
  });
  const unsubscribe = source.onChange(() => publisher.kick());
  return {
    ca, source, verifier,
    statusStore: kubeStatusStore({ io: kube.io, log: root.child({ component: 'policy-status' }) }), isLeader: () => kube.isLeader(),
    kick: () => { ca.kick(); publisher.kick(); },
    republish: () => publisher.kick(),
    stopExtra: async () => { unsubscribe(); await publisher.stop(); },
  };
}

/**
 * Local mode without --local-store (skein-cp run on its own, e.g. the admission bench) serves no mesh
 * services: they answer UNIMPLEMENTED, as before.
 */
export async function startMeshServices(
  config: CpConfig, root: Logger, metrics: CpMetrics, kube: KubeMode | undefined, controlPlaneCaPem: () => string, signal: AbortSignal,
): Promise<RunningMeshServices> {
  const parts = kube ? await kubeParts(config, root, kube, controlPlaneCaPem, signal) : await localParts(config, root);
  if (!parts) return { services: {}, onLeaderChange: () => undefined, onServingCaChange: () => undefined, stop: async () => undefined };
  const { ca, source, verifier } = parts;
  await source.start();
  const policies: PolicyReporter = startPolicyReporter({
    source, store: parts.statusStore, log: root.child({ component: 'policy' }), ...(parts.isLeader ? { isLeader: parts.isLeader } : {}),
  });
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
    onLeaderChange: (leading) => { if (leading) { parts.kick?.(); policies.kick(); } },
    onServingCaChange: () => parts.republish?.(),
    stop: async () => {
      discovery.closeAll();
      await policies.stop();
      await parts.stopExtra?.();
      await source.stop();
      await ca.stop();
    },
  };
}
