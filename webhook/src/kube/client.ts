// Thin Kubernetes I/O for skein-cp (@kubernetes/client-node v2, promise API with object params).
// Everything that decides something lives in the pure modules beside this one; here are only reads and
// writes. Loaded with a dynamic import from kubernetes mode only, so local mode never pays for (or
// depends on) the client library.
import type * as k8s from '@kubernetes/client-node';
import { KubeError } from '../errors.js';
import type { LeaseSpecView } from './lease.js';
import { formatMicroTime, parseMicroTime } from './micro-time.js';
import type { PatchOp, WebhookView } from './cabundle.js';
import type { VersionInfoLike } from './version.js';

export const FIELD_MANAGER = 'skein-cp';

export interface SecretRead {
  readonly data: Readonly<Record<string, string>> | undefined;
  readonly resourceVersion: string | undefined;
}

export interface LeaseRead {
  readonly spec: LeaseSpecView;
  readonly resourceVersion: string | undefined;
}

/** TokenReview status as skein-cp reads it (authentication.k8s.io/v1 TokenReviewStatus). */
export interface TokenReviewView {
  readonly authenticated: boolean;
  readonly audiences: readonly string[];
  readonly error: string | undefined;
  readonly username: string | undefined;
  readonly extra: Readonly<Record<string, readonly string[]>>;
}

/** A ConfigMap as the trust-anchor publisher reads it (identity/ca/publisher.ts). */
export interface ConfigMapRead {
  readonly data: Readonly<Record<string, string>>;
  readonly labels: Readonly<Record<string, string>>;
  readonly immutable: boolean;
  readonly resourceVersion: string | undefined;
}

export interface NamespaceView {
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  /** "Active" or "Terminating" (nothing may be created in a terminating namespace). */
  readonly phase: string | undefined;
}

export interface PodMetaView {
  readonly namespace: string;
  readonly name: string;
  readonly annotations: Readonly<Record<string, string>>;
}

/** The only operations skein-cp performs on the API server (match the RBAC in docs/control-plane.md). */
export interface KubeIo {
  serverVersion(): Promise<VersionInfoLike>;
  readSecret(namespace: string, name: string): Promise<SecretRead | undefined>;
  createSecret(namespace: string, name: string, type: string, data: Record<string, string>): Promise<void>;
  replaceSecret(namespace: string, name: string, type: string, data: Record<string, string>, resourceVersion: string | undefined): Promise<void>;
  readWebhooks(name: string): Promise<WebhookView[] | undefined>;
  patchWebhooks(name: string, ops: readonly PatchOp[]): Promise<void>;
  readLease(namespace: string, name: string): Promise<LeaseRead | undefined>;
  createLease(namespace: string, name: string, spec: LeaseSpecView): Promise<void>;
  replaceLease(namespace: string, name: string, spec: LeaseSpecView, resourceVersion: string | undefined): Promise<void>;
  /** ConfigMap `skein-ca-root` in each namespace with injected pods (identity/ca/publisher.ts). */
  readConfigMap(namespace: string, name: string): Promise<ConfigMapRead | undefined>;
  createConfigMap(namespace: string, name: string, data: Record<string, string>, labels: Record<string, string>): Promise<void>;
  replaceConfigMap(namespace: string, name: string, data: Record<string, string>, labels: Record<string, string>, resourceVersion: string | undefined): Promise<void>;
  deleteConfigMap(namespace: string, name: string): Promise<void>;
  /** Which namespaces have injected pods: namespaces (labels, phase) and every pod's annotations (paged). */
  listNamespaces(): Promise<NamespaceView[]>;
  listPodMeta(): Promise<PodMetaView[]>;
  /** POST a TokenReview (identity/token/kube.ts: is this a live service account token for `audiences`?). */
  createTokenReview(token: string, audiences: readonly string[]): Promise<TokenReviewView>;
  /** The connection itself, for the discovery informers (client-node ListWatch: list + watch). */
  readonly kubeConfig?: k8s.KubeConfig;
}

/** HTTP status of a client-node error (ApiException.code), if any. */
export function statusOf(err: unknown): number | undefined {
  if (typeof err === 'object' && err !== null && 'code' in err && typeof err.code === 'number') return err.code;
  return undefined;
}

async function orUndefinedOn404<T>(p: Promise<T>): Promise<T | undefined> {
  try {
    return await p;
  } catch (err) {
    if (statusOf(err) === 404) return undefined;
    throw err;
  }
}

async function loadLibrary(): Promise<typeof k8s> {
  try {
    return await import('@kubernetes/client-node');
  } catch (err) {
    // @kubernetes/client-node 2.x pulls undici 8, which needs Node >= 22.19; on Node 20 the import throws.
    throw new KubeError(
      `cannot load @kubernetes/client-node (${(err as Error).message}); on Node 20 pin undici to ^7 with an npm "overrides" entry, or run Node >= 22.19`,
      undefined,
      { cause: err },
    );
  }
}

/** In-cluster service account config, or the kubeconfig file given with --kubeconfig. */
export async function connect(kubeconfigPath: string | undefined): Promise<KubeIo> {
  const lib = await loadLibrary();
  const kc = new lib.KubeConfig();
  try {
    if (kubeconfigPath !== undefined) kc.loadFromFile(kubeconfigPath);
    else kc.loadFromCluster();
  } catch (err) {
    throw new KubeError(`cannot load Kubernetes configuration (${(err as Error).message}); pass --kubeconfig or run in a pod`, undefined, { cause: err });
  }
  return makeIo(lib, kc);
}

/**
 * A Lease time as the API server accepts it (micro-time.ts). client-node types the field as V1MicroTime
 * (a Date subclass) but passes whatever it is given through unchanged, so the already formatted string
 * goes on the wire as is; a plain Date would go out with three fractional digits and be refused (400).
 */
function wireMicroTime(d: Date | undefined): k8s.V1MicroTime | undefined {
  return d === undefined ? undefined : formatMicroTime(d) as unknown as k8s.V1MicroTime;
}

function makeIo(lib: typeof k8s, kc: k8s.KubeConfig): KubeIo {
  const core = kc.makeApiClient(lib.CoreV1Api);
  const coord = kc.makeApiClient(lib.CoordinationV1Api);
  const adm = kc.makeApiClient(lib.AdmissionregistrationV1Api);
  const version = kc.makeApiClient(lib.VersionApi);
  const authn = kc.makeApiClient(lib.AuthenticationV1Api);
  const jsonPatch = lib.setHeaderOptions('Content-Type', lib.PatchStrategy.JsonPatch);

  const leaseBody = (namespace: string, name: string, spec: LeaseSpecView, resourceVersion?: string): k8s.V1Lease => ({
    apiVersion: 'coordination.k8s.io/v1',
    kind: 'Lease',
    metadata: { name, namespace, ...(resourceVersion !== undefined ? { resourceVersion } : {}) },
    spec: {
      holderIdentity: spec.holderIdentity,
      leaseDurationSeconds: spec.leaseDurationSeconds,
      acquireTime: wireMicroTime(spec.acquireTime),
      renewTime: wireMicroTime(spec.renewTime),
      leaseTransitions: spec.leaseTransitions,
    },
  });
  const secretBody = (namespace: string, name: string, type: string, data: Record<string, string>, resourceVersion?: string): k8s.V1Secret => ({
    apiVersion: 'v1',
    kind: 'Secret',
    type,
    metadata: {
      name,
      namespace,
      labels: { 'app.kubernetes.io/name': 'skein-cp', 'app.kubernetes.io/part-of': 'skein' },
      ...(resourceVersion !== undefined ? { resourceVersion } : {}),
    },
    data,
  });

  return {
    kubeConfig: kc,
    serverVersion: async () => version.getCode(),
    readSecret: async (namespace, name) => {
      const s = await orUndefinedOn404(core.readNamespacedSecret({ name, namespace }));
      return s && { data: s.data, resourceVersion: s.metadata?.resourceVersion };
    },
    createSecret: async (namespace, name, type, data) => {
      await core.createNamespacedSecret({ namespace, body: secretBody(namespace, name, type, data), fieldManager: FIELD_MANAGER });
    },
    replaceSecret: async (namespace, name, type, data, rv) => {
      await core.replaceNamespacedSecret({ name, namespace, body: secretBody(namespace, name, type, data, rv), fieldManager: FIELD_MANAGER });
    },
    readWebhooks: async (name) => {
      const mwc = await orUndefinedOn404(adm.readMutatingWebhookConfiguration({ name }));
      return mwc && (mwc.webhooks ?? []).map((w) => ({ name: w.name, clientConfig: w.clientConfig }));
    },
    patchWebhooks: async (name, ops) => {
      await adm.patchMutatingWebhookConfiguration({ name, body: ops, fieldManager: FIELD_MANAGER }, jsonPatch);
    },
    readLease: async (namespace, name) => {
      const l = await orUndefinedOn404(coord.readNamespacedLease({ name, namespace }));
      return l && {
        resourceVersion: l.metadata?.resourceVersion,
        spec: {
          holderIdentity: l.spec?.holderIdentity,
          leaseDurationSeconds: l.spec?.leaseDurationSeconds,
          // client-node hands these back as the JSON strings it received, not as Dates.
          acquireTime: parseMicroTime(l.spec?.acquireTime),
          renewTime: parseMicroTime(l.spec?.renewTime),
          leaseTransitions: l.spec?.leaseTransitions,
        },
      };
    },
    createLease: async (namespace, name, spec) => {
      await coord.createNamespacedLease({ namespace, body: leaseBody(namespace, name, spec), fieldManager: FIELD_MANAGER });
    },
    replaceLease: async (namespace, name, spec, rv) => {
      await coord.replaceNamespacedLease({ name, namespace, body: leaseBody(namespace, name, spec, rv), fieldManager: FIELD_MANAGER });
    },
    readConfigMap: async (namespace, name) => {
      const cm = await orUndefinedOn404(core.readNamespacedConfigMap({ name, namespace }));
      return cm && { data: cm.data ?? {}, labels: cm.metadata?.labels ?? {}, immutable: cm.immutable === true, resourceVersion: cm.metadata?.resourceVersion };
    },
    createConfigMap: async (namespace, name, data, labels) => {
      await core.createNamespacedConfigMap({ namespace, body: { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, namespace, labels }, data }, fieldManager: FIELD_MANAGER });
    },
    replaceConfigMap: async (namespace, name, data, labels, rv) => {
      const metadata = { name, namespace, labels, ...(rv !== undefined ? { resourceVersion: rv } : {}) };
      await core.replaceNamespacedConfigMap({ name, namespace, body: { apiVersion: 'v1', kind: 'ConfigMap', metadata, data }, fieldManager: FIELD_MANAGER });
    },
    deleteConfigMap: async (namespace, name) => {
      await core.deleteNamespacedConfigMap({ name, namespace });
    },
    listNamespaces: async () => {
      const list = await core.listNamespace({});
      return list.items.map((n) => ({ name: n.metadata?.name ?? '', labels: n.metadata?.labels ?? {}, phase: n.status?.phase }));
    },
    listPodMeta: async () => {
      const out: { namespace: string; name: string; annotations: Record<string, string> }[] = [];
      let cont: string | undefined;
      do {
        const page = await core.listPodForAllNamespaces({ limit: 500, ...(cont ? { _continue: cont } : {}) });
        for (const p of page.items) out.push({ namespace: p.metadata?.namespace ?? '', name: p.metadata?.name ?? '', annotations: p.metadata?.annotations ?? {} });
        cont = page.metadata?._continue || undefined;
      } while (cont);
      return out;
    },
    createTokenReview: async (token, audiences) => {
      const r = await authn.createTokenReview({
        body: { apiVersion: 'authentication.k8s.io/v1', kind: 'TokenReview', metadata: {}, spec: { token, audiences: [...audiences] } },
      });
      return {
        authenticated: r.status?.authenticated === true,
        audiences: r.status?.audiences ?? [],
        error: r.status?.error,
        username: r.status?.user?.username,
        extra: r.status?.user?.extra ?? {},
      };
    },
  };
}
