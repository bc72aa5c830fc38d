// Namespace defaulting and validation, modelling kubernetes pkg/registry/core/namespace/strategy.go
// (PrepareForCreate: phase Active, finalizer "kubernetes"; the main resource ignores status) and
// pkg/apis/core/validation (ValidateNamespace: the name is a DNS-1123 label; cluster scoped).
// Deletion is immediate here (a real namespace is Terminating until its content is gone).
import { namespaceNameErrors } from './names.js';
import type { FieldError } from './status.js';
import { obj, validateObjectMeta, validateObjectMetaUpdate, type Obj } from './validate-meta.js';

export function defaultNamespace(ns: Obj): Obj {
  const spec = obj(ns, 'spec') ?? {};
  return { ...ns, spec: { ...spec, finalizers: spec.finalizers ?? ['kubernetes'] } };
}

export const initialNamespaceStatus = (): Obj => ({ phase: 'Active' });

export const validateNamespace = (ns: Obj): FieldError[] => validateObjectMeta(obj(ns, 'metadata') ?? {}, false, namespaceNameErrors);

export const validateNamespaceUpdate = (ns: Obj, old: Obj): FieldError[] =>
  validateObjectMetaUpdate(obj(ns, 'metadata') ?? {}, obj(old, 'metadata') ?? {});
