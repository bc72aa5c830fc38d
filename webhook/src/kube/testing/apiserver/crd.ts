// Custom resources as apiextensions-apiserver serves them, for the structural schemas of manifests/crds/:
// pruning (fields the schema does not list are dropped and reported as `unknown field "spec.x"`, which
// fieldValidation turns into a warning or a 400), defaulting (`default:` of a missing field, inside
// objects that exist), then validation against the schema (type, enum, pattern, maxLength, minimum,
// maximum, minItems, maxItems, minProperties, maxProperties, required) with the field error texts of kube-openapi's validators. The
// status subresource is the CRD's `subresources.status`.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { MANIFESTS_DIR } from '../../../manifests/paths.js';
import { goInt, goRaw, goString, invalid, notSupported, required, type FieldError } from './status.js';
import type { Obj } from './validate-meta.js';

export interface StructuralSchema {
  type?: string;
  properties?: Record<string, StructuralSchema>;
  additionalProperties?: StructuralSchema | boolean;
  items?: StructuralSchema;
  required?: string[];
  enum?: unknown[];
  pattern?: string;
  maxLength?: number;
  minimum?: number;
  maximum?: number;
  minItems?: number;
  maxItems?: number;
  minProperties?: number;
  maxProperties?: number;
  default?: unknown;
  'x-kubernetes-preserve-unknown-fields'?: boolean;
}

export interface CrdVersion { readonly group: string; readonly version: string; readonly kind: string; readonly plural: string; readonly namespaced: boolean; readonly schema: StructuralSchema; readonly statusSubresource: boolean }

/** The served version of a CRD manifest (manifests/crds/<file>). */
export function loadCrd(file: string): CrdVersion {
  const crd = parse(readFileSync(join(MANIFESTS_DIR, 'crds', file), 'utf8')) as {
    spec: { group: string; scope: string; names: { kind: string; plural: string }; versions: { name: string; served: boolean; storage: boolean; subresources?: { status?: unknown }; schema: { openAPIV3Schema: StructuralSchema } }[] };
  };
  const v = crd.spec.versions.find((x) => x.storage) ?? crd.spec.versions[0];
  if (!v) throw new Error(`${file}: no version`);
  return {
    group: crd.spec.group, version: v.name, kind: crd.spec.names.kind, plural: crd.spec.names.plural,
    namespaced: crd.spec.scope === 'Namespaced', schema: v.schema.openAPIV3Schema, statusSubresource: v.subresources?.status !== undefined,
  };
}

const isObject = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Drops unknown fields (metadata is ObjectMeta's business); returns their paths. */
export function prune(value: unknown, s: StructuralSchema, path = '', unknown: string[] = []): string[] {
  if (s['x-kubernetes-preserve-unknown-fields']) return unknown;
  if (isObject(value) && s.properties) {
    for (const k of Object.keys(value)) {
      const sub = s.properties[k];
      const p = path === '' ? k : `${path}.${k}`;
      if (sub === undefined) { unknown.push(`unknown field ${JSON.stringify(p)}`); delete value[k]; continue; }
      if (path === '' && k === 'metadata') continue;
      prune(value[k], sub, p, unknown);
    }
  } else if (isObject(value) && isObject(s.additionalProperties)) {
    for (const k of Object.keys(value)) prune(value[k], s.additionalProperties, `${path}[${k}]`, unknown);
  } else if (Array.isArray(value) && s.items) {
    value.forEach((item, i) => prune(item, s.items as StructuralSchema, `${path}[${i}]`, unknown));
  }
  return unknown;
}

export function applyDefaults(value: unknown, s: StructuralSchema): void {
  if (isObject(value) && s.properties) {
    for (const [k, sub] of Object.entries(s.properties)) {
      if (value[k] === undefined && sub.default !== undefined) value[k] = structuredClone(sub.default);
      if (value[k] !== undefined) applyDefaults(value[k], sub);
    }
  } else if (Array.isArray(value) && s.items) {
    for (const item of value) applyDefaults(item, s.items);
  }
}

function typeOf(v: unknown): string {
  if (Array.isArray(v)) return 'array';
  if (v === null) return 'null';
  if (typeof v === 'number') return Number.isInteger(v) ? 'integer' : 'number';
  return typeof v;
}

export function validateAgainst(value: unknown, s: StructuralSchema, path: string, errs: FieldError[] = []): FieldError[] {
  if (value === undefined) return errs;
  const t = typeOf(value);
  if (s.type !== undefined && !(s.type === t || (s.type === 'number' && t === 'integer'))) {
    errs.push(invalid(path, goString(t), `${path} in body must be of type ${s.type}: ${JSON.stringify(t)}`));
    return errs;
  }
  if (s.enum && !s.enum.includes(value)) errs.push(notSupported(path, goRaw(JSON.stringify(value)), s.enum.map(String)));
  if (typeof value === 'string') {
    if (s.maxLength !== undefined && [...value].length > s.maxLength) errs.push({ type: 'FieldValueTooLong', field: path, detail: `may not be more than ${s.maxLength} bytes` });
    if (s.pattern !== undefined && !new RegExp(s.pattern, 'u').test(value)) errs.push(invalid(path, goString(value), `${path} in body should match '${s.pattern}'`));
  }
  if (typeof value === 'number' && s.minimum !== undefined && value < s.minimum) errs.push(invalid(path, goInt(value), `${path} in body should be greater than or equal to ${s.minimum}`));
  if (typeof value === 'number' && s.maximum !== undefined && value > s.maximum) errs.push(invalid(path, goInt(value), `${path} in body should be less than or equal to ${s.maximum}`));
  if (Array.isArray(value)) {
    if (s.minItems !== undefined && value.length < s.minItems) errs.push(invalid(path, goInt(value.length), `${path} in body should have at least ${s.minItems} items`));
    if (s.maxItems !== undefined && value.length > s.maxItems) errs.push(invalid(path, goInt(value.length), `must have at most ${s.maxItems} items`));
    if (s.items) value.forEach((item, i) => validateAgainst(item, s.items as StructuralSchema, `${path}[${i}]`, errs));
  }
  if (isObject(value)) {
    if (s.minProperties !== undefined && Object.keys(value).length < s.minProperties) errs.push(invalid(path, goInt(Object.keys(value).length), `${path} in body should have at least ${s.minProperties} properties`));
    if (s.maxProperties !== undefined && Object.keys(value).length > s.maxProperties) errs.push(invalid(path, goInt(Object.keys(value).length), `must have at most ${s.maxProperties} properties`));
    for (const r of s.required ?? []) if (value[r] === undefined) errs.push(required(path === '' ? r : `${path}.${r}`));
    for (const [k, sub] of Object.entries(s.properties ?? {})) {
      if (path === '' && k === 'metadata') continue;
      validateAgainst(value[k], sub, path === '' ? k : `${path}.${k}`, errs);
    }
    if (isObject(s.additionalProperties)) for (const [k, v] of Object.entries(value)) validateAgainst(v, s.additionalProperties, `${path}[${k}]`, errs);
  }
  return errs;
}
