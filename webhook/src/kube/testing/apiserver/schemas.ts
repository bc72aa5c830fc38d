// The Go types (k8s.io/api, k8s.io/apimachinery meta/v1) of the objects skein-cp writes, as decode
// schemas for go-json.ts: field names (case-sensitive JSON tags) and types. Every field of the real
// structs is listed, so a correct object never triggers an "unknown field"; fields gated by newer
// Kubernetes versions (Lease strategy/preferredHolder, 1.31) are included as the newest server has them.
import { S, type Schema } from './go-json.js';

const managedFieldsEntry = S.struct('v1.ManagedFieldsEntry', {
  manager: S.string, operation: S.string, apiVersion: S.string, time: S.time,
  fieldsType: S.string, fieldsV1: S.raw, subresource: S.string,
});

const ownerReference = S.struct('v1.OwnerReference', {
  apiVersion: S.string, kind: S.string, name: S.string, uid: S.string, controller: S.bool, blockOwnerDeletion: S.bool,
});

export const OBJECT_META = S.struct('v1.ObjectMeta', {
  name: S.string,
  generateName: S.string,
  namespace: S.string,
  selfLink: S.string,
  uid: S.string,
  resourceVersion: S.string,
  generation: S.int64,
  creationTimestamp: S.time,
  deletionTimestamp: S.time,
  deletionGracePeriodSeconds: S.int64,
  labels: S.map(S.string),
  annotations: S.map(S.string),
  ownerReferences: S.array(ownerReference),
  finalizers: S.array(S.string),
  managedFields: S.array(managedFieldsEntry),
});

const typeMeta = { apiVersion: S.string, kind: S.string };

/** coordination.k8s.io/v1 Lease (k8s.io/api/coordination/v1/types.go). */
export const LEASE = S.struct('v1.Lease', {
  ...typeMeta,
  metadata: OBJECT_META,
  spec: S.struct('v1.LeaseSpec', {
    holderIdentity: S.string,
    leaseDurationSeconds: S.int32,
    acquireTime: S.microTime,
    renewTime: S.microTime,
    leaseTransitions: S.int32,
    strategy: S.string,
    preferredHolder: S.string,
  }),
});

/** v1 Secret (k8s.io/api/core/v1/types.go): data is map[string][]byte, base64 in JSON. */
export const SECRET = S.struct('v1.Secret', {
  ...typeMeta,
  metadata: OBJECT_META,
  immutable: S.bool,
  data: S.map(S.bytes),
  stringData: S.map(S.string),
  type: S.string,
});

const labelSelector = S.struct('v1.LabelSelector', {
  matchLabels: S.map(S.string),
  matchExpressions: S.array(S.struct('v1.LabelSelectorRequirement', { key: S.string, operator: S.string, values: S.array(S.string) })),
});

/** admissionregistration.k8s.io/v1 MutatingWebhookConfiguration (k8s.io/api/admissionregistration/v1). */
export const MUTATING_WEBHOOK_CONFIGURATION = S.struct('v1.MutatingWebhookConfiguration', {
  ...typeMeta,
  metadata: OBJECT_META,
  webhooks: S.array(S.struct('v1.MutatingWebhook', {
    name: S.string,
    clientConfig: S.struct('v1.WebhookClientConfig', {
      url: S.string,
      service: S.struct('v1.ServiceReference', { namespace: S.string, name: S.string, path: S.string, port: S.int32 }),
      caBundle: S.bytes,
    }),
    rules: S.array(S.struct('v1.RuleWithOperations', {
      operations: S.array(S.string), apiGroups: S.array(S.string), apiVersions: S.array(S.string),
      resources: S.array(S.string), scope: S.string,
    })),
    failurePolicy: S.string,
    matchPolicy: S.string,
    namespaceSelector: labelSelector,
    objectSelector: labelSelector,
    sideEffects: S.string,
    timeoutSeconds: S.int32,
    admissionReviewVersions: S.array(S.string),
    reinvocationPolicy: S.string,
    matchConditions: S.array(S.struct('v1.MatchCondition', { name: S.string, expression: S.string })),
  })),
});

export type { Schema };
