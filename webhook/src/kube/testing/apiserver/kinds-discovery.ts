// The kinds skein-cp's discovery lists and watches (Pod, Service, EndpointSlice, Namespace, Mesh), with
// the strategy flags of their real registries:
//   Pod, Service, Namespace: AllowCreateOnUpdate false, AllowUnconditionalUpdate true, status subresource
//            (pkg/registry/core/{pod,service,namespace}/strategy.go)
//   EndpointSlice: AllowCreateOnUpdate false, AllowUnconditionalUpdate true, no status (pkg/registry/discovery/endpointslice)
//   Mesh (custom resource from manifests/crds/mesh.yaml): AllowCreateOnUpdate false, AllowUnconditionalUpdate
//            false, generation bumped on spec changes, status subresource (apiextensions-apiserver customresource/strategy.go)
//   TrafficPermission (manifests/crds/trafficpermission.yaml, namespaced): as Mesh
import { applyDefaults, loadCrd, prune, validateAgainst } from './crd.js';
import type { Kind } from './kinds.js';
import { nameIsDnsSubdomain } from './names.js';
import { CUSTOM_RESOURCE, ENDPOINT_SLICE, NAMESPACE, POD, SERVICE } from './schemas-discovery.js';
import type { FieldError } from './status.js';
import { defaultEndpointSlice, validateEndpointSlice, validateEndpointSliceUpdate } from './validate-endpointslice.js';
import { obj, validateObjectMeta, validateObjectMetaUpdate, type Obj } from './validate-meta.js';
import { defaultNamespace, initialNamespaceStatus, validateNamespace, validateNamespaceUpdate } from './validate-namespace.js';
import { canonicalJson, defaultPod, initialPodStatus, normalisePodStatus, validatePod, validatePodStatusUpdate, validatePodUpdate } from './validate-pod.js';
import {
  allocateServiceIps, defaultService, initialServiceStatus, keepAllocatedIps, validateService, validateServiceStatusUpdate, validateServiceUpdate,
} from './validate-service.js';

export const PODS: Kind = {
  group: '', version: 'v1', kind: 'Pod', resource: 'pods', namespaced: true, schema: POD,
  allowCreateOnUpdate: false, allowUnconditionalUpdate: true,
  defaults: defaultPod, validate: validatePod, validateUpdate: validatePodUpdate,
  status: { initial: initialPodStatus, normalise: normalisePodStatus, validateUpdate: validatePodStatusUpdate },
};

export const SERVICES: Kind = {
  group: '', version: 'v1', kind: 'Service', resource: 'services', namespaced: true, schema: SERVICE,
  allowCreateOnUpdate: false, allowUnconditionalUpdate: true,
  defaults: defaultService, validate: validateService, validateUpdate: validateServiceUpdate,
  prepareForCreate: allocateServiceIps, prepareForUpdate: keepAllocatedIps,
  status: { initial: initialServiceStatus, validateUpdate: validateServiceStatusUpdate },
};

export const NAMESPACES: Kind = {
  group: '', version: 'v1', kind: 'Namespace', resource: 'namespaces', namespaced: false, schema: NAMESPACE,
  allowCreateOnUpdate: false, allowUnconditionalUpdate: true,
  defaults: defaultNamespace, validate: validateNamespace, validateUpdate: validateNamespaceUpdate,
  status: { initial: initialNamespaceStatus, validateUpdate: validateNamespaceUpdate },
};

export const ENDPOINT_SLICES: Kind = {
  group: 'discovery.k8s.io', version: 'v1', kind: 'EndpointSlice', resource: 'endpointslices', namespaced: true, schema: ENDPOINT_SLICE,
  allowCreateOnUpdate: false, allowUnconditionalUpdate: true,
  defaults: defaultEndpointSlice, validate: validateEndpointSlice, validateUpdate: validateEndpointSliceUpdate,
};

const MESH_CRD = loadCrd('mesh.yaml');
const withoutMeta = (o: Obj): Obj => { const { metadata: _m, ...rest } = o; return rest; };
const validateMeshBody = (o: Obj): FieldError[] => validateAgainst(withoutMeta(o), MESH_CRD.schema, '');

export const MESHES: Kind = {
  group: MESH_CRD.group, version: MESH_CRD.version, kind: MESH_CRD.kind, resource: MESH_CRD.plural, namespaced: MESH_CRD.namespaced,
  schema: CUSTOM_RESOURCE, allowCreateOnUpdate: false, allowUnconditionalUpdate: false,
  specChanged: (o, old) => canonicalJson(o.spec ?? null) !== canonicalJson(old.spec ?? null),
  prune: (o) => prune(o, MESH_CRD.schema),
  defaults: (o) => { const out = structuredClone(o); applyDefaults(out, MESH_CRD.schema); return out; },
  validate: (o) => [...validateObjectMeta(obj(o, 'metadata') ?? {}, MESH_CRD.namespaced, nameIsDnsSubdomain), ...validateMeshBody(o)],
  validateUpdate: (o, old) => [...validateObjectMetaUpdate(obj(o, 'metadata') ?? {}, obj(old, 'metadata') ?? {}), ...validateMeshBody(o)],
  ...(MESH_CRD.statusSubresource ? {
    status: {
      initial: () => undefined,
      validateUpdate: (o: Obj, old: Obj) => [...validateObjectMetaUpdate(obj(o, 'metadata') ?? {}, obj(old, 'metadata') ?? {}), ...validateMeshBody(o)],
    },
  } : {}),
};

/** A custom resource from manifests/crds/<file>, as apiextensions-apiserver serves it. */
function customResource(file: string): Kind {
  const crd = loadCrd(file);
  const validateBody = (o: Obj): FieldError[] => validateAgainst(withoutMeta(o), crd.schema, '');
  return {
    group: crd.group, version: crd.version, kind: crd.kind, resource: crd.plural, namespaced: crd.namespaced,
    schema: CUSTOM_RESOURCE, allowCreateOnUpdate: false, allowUnconditionalUpdate: false,
    specChanged: (o, old) => canonicalJson(o.spec ?? null) !== canonicalJson(old.spec ?? null),
    prune: (o) => prune(o, crd.schema),
    defaults: (o) => { const out = structuredClone(o); applyDefaults(out, crd.schema); return out; },
    validate: (o) => [...validateObjectMeta(obj(o, 'metadata') ?? {}, crd.namespaced, nameIsDnsSubdomain), ...validateBody(o)],
    validateUpdate: (o, old) => [...validateObjectMetaUpdate(obj(o, 'metadata') ?? {}, obj(old, 'metadata') ?? {}), ...validateBody(o)],
    ...(crd.statusSubresource ? {
      status: {
        initial: () => undefined,
        validateUpdate: (o: Obj, old: Obj) => [...validateObjectMetaUpdate(obj(o, 'metadata') ?? {}, obj(old, 'metadata') ?? {}), ...validateBody(o)],
      },
    } : {}),
  };
}

export const TRAFFIC_PERMISSIONS: Kind = customResource('trafficpermission.yaml');

export const DISCOVERY_KINDS: readonly Kind[] = [PODS, SERVICES, NAMESPACES, ENDPOINT_SLICES, MESHES, TRAFFIC_PERMISSIONS];
