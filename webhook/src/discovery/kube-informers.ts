// Kubernetes mode's cluster source: one @kubernetes/client-node ListWatch per kind (Pods, Services,
// EndpointSlices, Namespaces, Mesh, TrafficPermission), all cluster-wide.
//
// How it behaves when the API server goes away (docs/discovery.md):
// - a watch the server ends (timeoutSeconds) or that is idle for 30 s is resumed at once from the last
//   resourceVersion seen (client-node); watches ask for bookmarks, so that version stays fresh on quiet
//   kinds;
// - a watch whose connection breaks (server restart, network) makes client-node stop that informer; it
//   is restarted here after an exponential backoff with full jitter (0.5-1.5 x, 0.5 s doubling to 30 s)
//   and resumes from its last resourceVersion: no list;
// - only a 410 Gone (the server's watch cache no longer reaches back to that version, e.g. after its
//   restart) clears the version, and the informer lists again, after a random delay of up to
//   `relistJitterMs`, so that the replicas and kinds do not all list at the same instant; lists ask for
//   resourceVersion=0 (served from the API server's cache, not from etcd).
// While an informer is down, the last state is kept and served (fail static).
import type * as k8s from '@kubernetes/client-node';
import { KubeError } from '../errors.js';
import type { KubeIo } from '../kube/client.js';
import type { Logger } from '../log.js';
import { MutableClusterState } from './state.js';
import { objectKey, type ClusterSource, type ClusterState, type KindName } from './types.js';

export interface KubeInformerOptions {
  /** The connection: a KubeConfig, or a KubeIo that carries one (`kubeConfig`), or a kubeconfig file (else in-cluster). */
  readonly kubeConfig?: k8s.KubeConfig;
  readonly io?: KubeIo & { readonly kubeConfig?: k8s.KubeConfig };
  readonly kubeconfigPath?: string;
  readonly log: Logger;
  /** Restart backoff after a broken watch (ms): first delay and cap. */
  readonly backoff?: { readonly baseMs: number; readonly maxMs: number };
  /** A relist after 410 Gone waits a random time below this (ms). */
  readonly relistJitterMs?: number;
}

interface KindSpec {
  readonly kind: KindName;
  readonly path: string;
  readonly list: (apis: Apis) => Promise<k8s.KubernetesListObject<k8s.KubernetesObject>>;
}

interface Apis { core: k8s.CoreV1Api; discovery: k8s.DiscoveryV1Api; custom: k8s.CustomObjectsApi }

const KINDS: readonly KindSpec[] = [
  { kind: 'pods', path: '/api/v1/pods', list: (a) => a.core.listPodForAllNamespaces({ resourceVersion: '0' }) },
  { kind: 'services', path: '/api/v1/services', list: (a) => a.core.listServiceForAllNamespaces({ resourceVersion: '0' }) },
  { kind: 'endpointSlices', path: '/apis/discovery.k8s.io/v1/endpointslices', list: (a) => a.discovery.listEndpointSliceForAllNamespaces({ resourceVersion: '0' }) },
  { kind: 'namespaces', path: '/api/v1/namespaces', list: (a) => a.core.listNamespace({ resourceVersion: '0' }) },
  {
    kind: 'meshes', path: '/apis/skein.io/v1alpha1/meshes',
    list: async (a) => await a.custom.listClusterCustomObject({ group: 'skein.io', version: 'v1alpha1', plural: 'meshes', resourceVersion: '0' }) as k8s.KubernetesListObject<k8s.KubernetesObject>,
  },
  {
    kind: 'trafficPermissions', path: '/apis/skein.io/v1alpha1/trafficpermissions',
    list: async (a) => await a.custom.listClusterCustomObject({ group: 'skein.io', version: 'v1alpha1', plural: 'trafficpermissions', resourceVersion: '0' }) as k8s.KubernetesListObject<k8s.KubernetesObject>,
  },
];

/** Custom resources whose CRD may not be installed yet: a 404 list is "none" (with a warning), not a failed start. */
const CRD_MISSING: Partial<Record<KindName, string>> = {
  meshes: 'the Mesh CRD (meshes.skein.io) is not installed: mesh defaults apply (PERMISSIVE, 24h, Allow); apply manifests/crds',
  trafficPermissions: 'the TrafficPermission CRD (trafficpermissions.skein.io) is not installed: no permissions, the Mesh default action decides; apply manifests/crds',
};

const statusOf = (err: unknown): number | undefined => {
  const e = err as { code?: unknown; statusCode?: unknown } | undefined;
  return typeof e?.code === 'number' ? e.code : typeof e?.statusCode === 'number' ? e.statusCode : undefined;
};

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms).unref());

async function loadKubeConfig(lib: typeof k8s, opts: KubeInformerOptions): Promise<k8s.KubeConfig> {
  if (opts.kubeConfig) return opts.kubeConfig;
  if (opts.io?.kubeConfig) return opts.io.kubeConfig;
  const kc = new lib.KubeConfig();
  try {
    if (opts.kubeconfigPath !== undefined) kc.loadFromFile(opts.kubeconfigPath);
    else kc.loadFromCluster();
  } catch (err) {
    throw new KubeError(`cannot load Kubernetes configuration for the discovery informers (${(err as Error).message}); pass --kubeconfig or run in a pod`, undefined, { cause: err });
  }
  return kc;
}

export function kubeInformerSource(opts: KubeInformerOptions): ClusterSource & { eventCounts(): Readonly<Partial<Record<KindName, number>>> } {
  const { log } = opts;
  const baseMs = opts.backoff?.baseMs ?? 500;
  const maxMs = opts.backoff?.maxMs ?? 30_000;
  const relistJitterMs = opts.relistJitterMs ?? 1000;
  const state = new MutableClusterState();
  const informers: k8s.ListWatch<k8s.KubernetesObject>[] = [];
  let stopped = false;
  let notifyScheduled = false;

  const changed = (): void => {
    if (notifyScheduled) return;
    notifyScheduled = true;
    setImmediate(() => {
      notifyScheduled = false;
      state.notify((err) => log.error({ err }, 'a discovery change listener failed'));
    });
  };

  async function startKind(lib: typeof k8s, kc: k8s.KubeConfig, apis: Apis, spec: KindSpec): Promise<void> {
    const klog = log.child({ kind: spec.kind });
    let lists = 0;
    let listedOnce = false;
    let warnedNoCrd = false;
    let firstList: { resolve: () => void; reject: (e: Error) => void } | undefined;
    const listed = new Promise<void>((resolve, reject) => { firstList = { resolve, reject }; });
    const listFn = async (): Promise<k8s.KubernetesListObject<k8s.KubernetesObject>> => {
      lists += 1;
      if (lists > 1) {
        const wait = Math.floor(Math.random() * relistJitterMs);
        if (listedOnce) klog.info({ waitMs: wait }, 'the watch can no longer be resumed (410 Gone): listing again');
        await sleep(wait);
      }
      try {
        const list = await spec.list(apis);
        listedOnce = true;
        firstList?.resolve();
        return list;
      } catch (err) {
        const code = statusOf(err);
        const noCrd = CRD_MISSING[spec.kind];
        if (noCrd !== undefined && code === 404) {
          // The CRD is not installed: none of these objects. Keep trying in the background.
          if (!warnedNoCrd) klog.warn(noCrd);
          warnedNoCrd = true;
          firstList?.resolve();
        } else if (code === 401 || code === 403) {
          firstList?.reject(new KubeError(`skein-cp may not list ${spec.path} (HTTP ${code}); apply the RBAC of manifests/rbac.yaml (list and watch on ${spec.kind})`, code, { cause: err }));
        }
        throw err;
      }
    };
    const watch = new lib.Watch(kc);
    // Bookmarks keep the resume version fresh on quiet kinds (the path may carry a query: Watch adds its own).
    const informer = new lib.ListWatch(`${spec.path}?allowWatchBookmarks=true`, watch, listFn, false, undefined, undefined, {
      delayFn: (ms) => sleep(ms * (0.5 + Math.random())),
    });
    informers.push(informer);
    const key = (o: k8s.KubernetesObject): string => objectKey(o.metadata?.namespace, o.metadata?.name);
    informer.on('add', (o) => { if (state.set(spec.kind, key(o), o)) changed(); });
    informer.on('update', (o) => { if (state.set(spec.kind, key(o), o)) changed(); });
    informer.on('delete', (o) => { if (state.delete(spec.kind, key(o))) changed(); });
    let attempt = 0;
    let lastError = 0;
    const onError = (err: unknown): void => {
      if (stopped) return;
      if (Date.now() - lastError > 5 * maxMs) attempt = 0; // healthy for a while: start the backoff over
      lastError = Date.now();
      const delay = Math.round(Math.min(maxMs, baseMs * 2 ** attempt) * (0.5 + Math.random()));
      attempt += 1;
      klog.warn({ err: { message: (err as Error).message, code: statusOf(err) }, retryInMs: delay, resourceVersion: informer.latestResourceVersion() || undefined },
        'the watch broke; resuming from the last resourceVersion after a backoff');
      // start() keeps the resourceVersion: the watch resumes from it (only a 410 clears it).
      setTimeout(() => { if (!stopped) informer.start().catch(onError); }, delay).unref();
    };
    informer.on('error', onError);
    await informer.start();
    await listed;
  }

  return {
    start: async () => {
      let lib: typeof k8s;
      try {
        lib = await import('@kubernetes/client-node');
      } catch (err) {
        throw new KubeError(`cannot load @kubernetes/client-node (${(err as Error).message})`, undefined, { cause: err });
      }
      const kc = await loadKubeConfig(lib, opts);
      const apis: Apis = { core: kc.makeApiClient(lib.CoreV1Api), discovery: kc.makeApiClient(lib.DiscoveryV1Api), custom: kc.makeApiClient(lib.CustomObjectsApi) };
      await Promise.all(KINDS.map((spec) => startKind(lib, kc, apis, spec)));
      log.info({ pods: state.view().pods.size, services: state.view().services.size, endpointSlices: state.view().endpointSlices.size }, 'discovery informers listed the cluster');
    },
    state: (): ClusterState => state.view(),
    onChange: (listener) => state.onChange(listener),
    eventCounts: () => state.eventCounts(),
    stop: async () => {
      stopped = true;
      await Promise.all(informers.map((i) => i.stop()));
    },
  };
}
