// Kubernetes mode's status of TrafficPermissions: a JSON patch of the status subresource
// (trafficpermissions/status, RBAC verb patch: manifests/rbac.yaml), guarded by a `test` of
// metadata.generation so that the verdict on an older spec never lands on a newer one (the patch is
// refused 422 and the informer's update brings the next pass). What is stored is read from the
// informer's copy of the object.
import type * as k8s from '@kubernetes/client-node';
import { KubeError } from '../errors.js';
import type { Logger } from '../log.js';
import type { PolicyStatus, StatusStore } from './status-store.js';

const statusOf = (err: unknown): number | undefined => {
  const e = err as { code?: unknown; statusCode?: unknown } | undefined;
  return typeof e?.code === 'number' ? e.code : typeof e?.statusCode === 'number' ? e.statusCode : undefined;
};

export interface KubeStatusOptions {
  readonly kubeConfig?: k8s.KubeConfig;
  readonly io?: { readonly kubeConfig?: k8s.KubeConfig };
  readonly log: Logger;
}

export function kubeStatusStore(opts: KubeStatusOptions): StatusStore {
  let api: Promise<{ custom: k8s.CustomObjectsApi; options: k8s.ConfigurationOptions }> | undefined;
  const connect = async (): Promise<{ custom: k8s.CustomObjectsApi; options: k8s.ConfigurationOptions }> => {
    const lib = await import('@kubernetes/client-node');
    let kc = opts.kubeConfig ?? opts.io?.kubeConfig;
    if (!kc) {
      kc = new lib.KubeConfig();
      kc.loadFromCluster();
    }
    return { custom: kc.makeApiClient(lib.CustomObjectsApi), options: lib.setHeaderOptions('Content-Type', lib.PatchStrategy.JsonPatch) };
  };
  return {
    stored: (_key, o) => o.status,
    write: async (key, o, status: PolicyStatus) => {
      api ??= connect();
      const { custom, options } = await api;
      const namespace = o.metadata?.namespace ?? '';
      const name = o.metadata?.name ?? '';
      const generation = o.metadata?.generation;
      const ops = [
        ...(typeof generation === 'number' ? [{ op: 'test', path: '/metadata/generation', value: generation }] : []),
        { op: 'add', path: '/status', value: status },
      ];
      try {
        await custom.patchNamespacedCustomObjectStatus({ group: 'skein.io', version: 'v1alpha1', namespace, plural: 'trafficpermissions', name, body: ops }, options);
        return true;
      } catch (err) {
        const code = statusOf(err);
        if (code === 404 || code === 422 || code === 409) {
          opts.log.debug({ policy: key, code }, 'the TrafficPermission changed or went away before its status was written; the next pass writes it');
          return false;
        }
        if (code === 401 || code === 403) {
          throw new KubeError(`skein-cp may not patch trafficpermissions/status of ${key} (HTTP ${code}); apply the RBAC of manifests/rbac.yaml (patch on trafficpermissions/status)`, code, { cause: err });
        }
        throw err;
      }
    },
  };
}
