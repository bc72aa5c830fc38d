// Maps each apiVersion/kind Skein's manifests may contain to the kubernetes-models
// class that validates it against the Kubernetes OpenAPI schema. A kind that is
// not in the map is an error, so a new manifest cannot slip in unvalidated.
// Imports only kubernetes-models (a dev dependency: used by tests only).
import { MutatingWebhookConfiguration } from 'kubernetes-models/admissionregistration.k8s.io/v1';
import { CustomResourceDefinition } from 'kubernetes-models/apiextensions.k8s.io/v1';
import { Deployment } from 'kubernetes-models/apps/v1';
import { PodDisruptionBudget } from 'kubernetes-models/policy/v1';
import { ClusterRole, ClusterRoleBinding, Role, RoleBinding } from 'kubernetes-models/rbac.authorization.k8s.io/v1';
import { Namespace, Service, ServiceAccount } from 'kubernetes-models/v1';

/** A kubernetes-models class: constructed from plain data, validate() throws when the data breaks the schema. */
type ModelClass = new (data: never) => { validate(): void };

export const MODELS: ReadonlyMap<string, ModelClass> = new Map<string, ModelClass>([
  ['v1/Namespace', Namespace],
  ['v1/ServiceAccount', ServiceAccount],
  ['v1/Service', Service],
  ['apps/v1/Deployment', Deployment],
  ['policy/v1/PodDisruptionBudget', PodDisruptionBudget],
  ['rbac.authorization.k8s.io/v1/ClusterRole', ClusterRole],
  ['rbac.authorization.k8s.io/v1/ClusterRoleBinding', ClusterRoleBinding],
  ['rbac.authorization.k8s.io/v1/Role', Role],
  ['rbac.authorization.k8s.io/v1/RoleBinding', RoleBinding],
  ['apiextensions.k8s.io/v1/CustomResourceDefinition', CustomResourceDefinition],
  ['admissionregistration.k8s.io/v1/MutatingWebhookConfiguration', MutatingWebhookConfiguration],
]);

export class UnknownKindError extends Error {
  readonly code = 'MANIFESTS_UNKNOWN_KIND';
}

/** Validates one object with the model for its apiVersion/kind; throws UnknownKindError or the model's error. */
export function validateWithModel(key: string, object: Record<string, unknown>): void {
  const Model = MODELS.get(key);
  if (!Model) throw new UnknownKindError(`no Kubernetes model for ${key}: add it to webhook/src/manifests/models.ts`);
  new Model(object as never).validate();
}
