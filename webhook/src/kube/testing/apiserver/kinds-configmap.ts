// The ConfigMap kind (skein-cp writes `skein-ca-root` into every namespace with injected pods), with the
// strategy flags of its real registry: AllowCreateOnUpdate false, AllowUnconditionalUpdate true, no
// status, no generation (pkg/registry/core/configmap/strategy.go).
import { S } from './go-json.js';
import type { Kind } from './kinds.js';
import { OBJECT_META } from './schemas.js';
import { validateConfigMap, validateConfigMapUpdate } from './validate-configmap.js';

/** v1 ConfigMap (k8s.io/api/core/v1/types.go): data is map[string]string, binaryData map[string][]byte. */
export const CONFIG_MAP = S.struct('v1.ConfigMap', {
  apiVersion: S.string,
  kind: S.string,
  metadata: OBJECT_META,
  immutable: S.bool,
  data: S.map(S.string),
  binaryData: S.map(S.bytes),
});

export const CONFIG_MAPS: Kind = {
  group: '', version: 'v1', kind: 'ConfigMap', resource: 'configmaps', namespaced: true, schema: CONFIG_MAP,
  allowCreateOnUpdate: false, allowUnconditionalUpdate: true,
  defaults: (o) => o, validate: validateConfigMap, validateUpdate: validateConfigMapUpdate,
};
