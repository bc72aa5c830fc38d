// Kubernetes mode, leader only: keeps ConfigMap `skein-ca-root` in every namespace that has injected pods
// (label skein.io/inject=enabled, or a pod annotated skein.io/injected), with the mesh trust anchors
// (root-cert.pem) and the CA of skein-cp's own serving certificate (control-plane-ca.pem). Each sidecar
// mounts it, so without it an injected pod never starts. It is rewritten when its content drifts (someone
// edited it, or made it immutable: then it is deleted and created again) and at once when the anchors
// change. A namespace that no longer has injected pods keeps its copy: removing it could race a pod that is
// being created there, and it holds only public certificates.
import { statusOf, type KubeIo } from '../../kube/client.js';
import { ErrorThrottle } from '../../kube/throttle.js';
import type { Logger } from '../../log.js';
import type { MeshCa } from './mesh-ca.js';
import { Poller } from './poller.js';

export const CA_ROOT_CONFIGMAP = 'skein-ca-root';
export const KEY_ROOT_CERT = 'root-cert.pem';
export const KEY_CONTROL_PLANE_CA = 'control-plane-ca.pem';
export const INJECT_LABEL = 'skein.io/inject';
export const INJECTED_ANNOTATION = 'skein.io/injected';
export const PUBLISH_INTERVAL_MS = 30_000;
const PUBLISH_WAITING_MS = 2_000;
const LABELS: Readonly<Record<string, string>> = { 'app.kubernetes.io/managed-by': 'skein-cp', 'app.kubernetes.io/part-of': 'skein' };

export interface CaRootPublisherOptions {
  readonly io: KubeIo;
  readonly ca: MeshCa;
  /** PEM of the CA that signs skein-cp's gRPC/webhook certificate; '' while it is not known yet. */
  readonly controlPlaneCaPem: () => string;
  readonly isLeader: () => boolean;
  readonly log: Logger;
  readonly intervalMs?: number;
  /**
   * The namespaces with injected pods, if the caller already watches pods and namespaces (discovery's
   * informers): saves listing every pod of the cluster each round. Default: list through `io`.
   */
  readonly injectedNamespaces?: () => Promise<Iterable<string>>;
}

export interface CaRootPublisher {
  /**
   * Publishes now where the content is not yet the current one (call it on becoming leader, when the
   * control-plane CA changes, when a namespace gets injected pods). Cheap with `injectedNamespaces`.
   */
  kick(): void;
  stop(): Promise<void>;
}

interface NamespaceLike { readonly metadata?: { readonly name?: string; readonly labels?: Readonly<Record<string, string>> }; readonly status?: { readonly phase?: string } }
interface PodLike { readonly metadata?: { readonly namespace?: string; readonly annotations?: Readonly<Record<string, string>> } }

/**
 * Pure: the namespaces that hold injected pods (labelled skein.io/inject=enabled, or with a pod annotated
 * skein.io/injected), terminating ones left out, sorted. Takes plain Kubernetes objects, so the lead can
 * feed it the informers' maps (discovery's ClusterState) as `injectedNamespaces`.
 */
export function injectedNamespacesOf(namespaces: Iterable<NamespaceLike>, pods: Iterable<PodLike>): string[] {
  const terminating = new Set<string>();
  const out = new Set<string>();
  for (const n of namespaces) {
    const name = n.metadata?.name ?? '';
    if (n.status?.phase === 'Terminating') terminating.add(name);
    if (n.metadata?.labels?.[INJECT_LABEL] === 'enabled') out.add(name);
  }
  for (const p of pods) {
    const annotations = p.metadata?.annotations ?? {};
    if (Object.hasOwn(annotations, INJECTED_ANNOTATION)) out.add(p.metadata?.namespace ?? '');
  }
  return [...out].filter((n) => n !== '' && !terminating.has(n)).sort();
}

/** The same from what the API server lists (every namespace, and every pod's metadata, paged). */
export async function listInjectedNamespaces(io: KubeIo): Promise<string[]> {
  const [namespaces, pods] = await Promise.all([io.listNamespaces(), io.listPodMeta()]);
  return injectedNamespacesOf(
    namespaces.map((n) => ({ metadata: { name: n.name, labels: n.labels }, status: { phase: n.phase } })),
    pods.map((p) => ({ metadata: { namespace: p.namespace, annotations: p.annotations } })),
  );
}

const sameMap = (a: Readonly<Record<string, string>>, b: Readonly<Record<string, string>>): boolean => {
  const ka = Object.keys(a);
  return ka.length === Object.keys(b).length && ka.every((k) => Object.hasOwn(b, k) && a[k] === b[k]);
};

export function startCaRootPublisher(opts: CaRootPublisherOptions): CaRootPublisher {
  const { io, log } = opts;
  const errors = new ErrorThrottle(log, 'warn');
  const listNamespaces = opts.injectedNamespaces ?? (() => listInjectedNamespaces(io));

  const reconcile = async (namespace: string, data: Record<string, string>): Promise<void> => {
    const cur = await io.readConfigMap(namespace, CA_ROOT_CONFIGMAP);
    if (cur === undefined) {
      await io.createConfigMap(namespace, CA_ROOT_CONFIGMAP, data, { ...LABELS });
      log.info({ namespace, configMap: CA_ROOT_CONFIGMAP }, 'published the mesh trust anchors');
      return;
    }
    const labelsOk = Object.entries(LABELS).every(([k, v]) => cur.labels[k] === v);
    if (sameMap(cur.data, data) && labelsOk) return;
    if (cur.immutable) {
      // An immutable ConfigMap cannot be updated, only replaced by a new object.
      await io.deleteConfigMap(namespace, CA_ROOT_CONFIGMAP);
      await io.createConfigMap(namespace, CA_ROOT_CONFIGMAP, data, { ...LABELS });
      log.warn({ namespace, configMap: CA_ROOT_CONFIGMAP }, 'the trust-anchor ConfigMap was made immutable with other content; recreated it');
      return;
    }
    await io.replaceConfigMap(namespace, CA_ROOT_CONFIGMAP, data, { ...cur.labels, ...LABELS }, cur.resourceVersion);
    log.info({ namespace, configMap: CA_ROOT_CONFIGMAP, dataDrift: !sameMap(cur.data, data) }, 'rewrote the trust-anchor ConfigMap');
  };

  // What each namespace was last given: a kick (a new namespace, a new pod) only writes where that is not
  // the current content, so it costs no API call when nothing is new. The full round (every interval)
  // reads every ConfigMap again to repair drift.
  const published = new Map<string, string>();
  let lastFullAt = 0;

  const tick = async (): Promise<number> => {
    const interval = opts.intervalMs ?? PUBLISH_INTERVAL_MS;
    if (!opts.isLeader()) {
      published.clear();
      lastFullAt = 0;
      return interval;
    }
    const anchors = opts.ca.trustAnchorsPem();
    const cpCa = opts.controlPlaneCaPem();
    if (anchors.length === 0 || cpCa === '') return Math.min(interval, PUBLISH_WAITING_MS);
    const data = { [KEY_ROOT_CERT]: anchors.join(''), [KEY_CONTROL_PLANE_CA]: cpCa };
    const contentKey = `${data[KEY_ROOT_CERT]}\0${cpCa}`;
    const startedAt = Date.now();
    const full = startedAt - lastFullAt >= interval;
    let failed = 0;
    try {
      for (const ns of await listNamespaces()) {
        if (!full && published.get(ns) === contentKey) continue;
        try {
          await reconcile(ns, data);
          published.set(ns, contentKey);
        } catch (err) {
          published.delete(ns);
          const status = statusOf(err);
          // 404: the namespace went away meanwhile; 409: someone wrote the ConfigMap meanwhile (next round).
          if (status === 404 || status === 409) continue;
          failed++;
          errors.report(err, `cannot publish ${CA_ROOT_CONFIGMAP} in namespace ${ns}; retrying`);
        }
      }
    } catch (err) {
      failed++;
      errors.report(err, 'cannot list the namespaces with injected pods; retrying');
    }
    if (failed > 0) return Math.min(interval, PUBLISH_WAITING_MS * 5);
    errors.clear();
    if (full) lastFullAt = startedAt;
    return Math.max(10, interval - (Date.now() - lastFullAt));
  };

  const poller = new Poller(tick);
  const unsubscribe = opts.ca.onTrustAnchorsChange(() => poller.kick());
  poller.kick();
  return {
    kick: () => poller.kick(),
    stop: async () => {
      unsubscribe();
      await poller.stop();
    },
  };
}
