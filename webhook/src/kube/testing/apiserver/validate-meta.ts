// ObjectMeta and label validation, modelling apimachinery's pkg/api/validation/objectmeta.go
// (ValidateObjectMetaAccessor, ValidateObjectMetaAccessorUpdate, ValidateAnnotations) and
// pkg/apis/meta/v1/validation/validation.go (ValidateLabels, ValidateLabelSelector). Objects here are
// the decoded JSON of go-json.ts (absent = Go zero value).
import { isQualifiedName, isValidLabelValue, namespaceNameErrors } from './names.js';
import { forbidden, goInt, goRaw, goString, invalid, required, tooLong, type FieldError } from './status.js';

export type Obj = Record<string, unknown>;

export const str = (o: Obj | undefined, k: string): string => (typeof o?.[k] === 'string' ? o[k] : '');
export const num = (o: Obj | undefined, k: string): number | undefined => (typeof o?.[k] === 'number' ? o[k] : undefined);
export const obj = (o: Obj | undefined, k: string): Obj | undefined => {
  const v = o?.[k];
  return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Obj) : undefined;
};
export const arr = (o: Obj | undefined, k: string): unknown[] => (Array.isArray(o?.[k]) ? (o[k] as unknown[]) : []);
export const strMap = (o: Obj | undefined, k: string): Record<string, string> => (obj(o, k) ?? {}) as Record<string, string>;

/** TotalAnnotationSizeLimitB. */
const ANNOTATIONS_MAX = 256 * 1024;

export function validateLabels(labels: Record<string, string>, fld: string): FieldError[] {
  const errs: FieldError[] = [];
  for (const [k, v] of Object.entries(labels)) {
    for (const m of isQualifiedName(k)) errs.push(invalid(fld, goString(k), m));
    for (const m of isValidLabelValue(v)) errs.push(invalid(`${fld}[${k}]`, goString(v), m));
  }
  return errs;
}

export function validateAnnotations(annotations: Record<string, string>, fld: string): FieldError[] {
  const errs: FieldError[] = [];
  let size = 0;
  for (const [k, v] of Object.entries(annotations)) {
    for (const m of isQualifiedName(k.toLowerCase())) errs.push(invalid(fld, goString(k), m));
    size += Buffer.byteLength(k) + Buffer.byteLength(v);
  }
  if (size > ANNOTATIONS_MAX) errs.push(tooLong(fld, ANNOTATIONS_MAX));
  return errs;
}

function validateCommon(meta: Obj, namespaced: boolean): FieldError[] {
  const errs: FieldError[] = [];
  const ns = str(meta, 'namespace');
  if (namespaced) {
    if (ns === '') errs.push(required('metadata.namespace'));
    else for (const m of namespaceNameErrors(ns)) errs.push(invalid('metadata.namespace', goString(ns), m));
  } else if (ns !== '') {
    errs.push(forbidden('metadata.namespace', 'not allowed on this type'));
  }
  const generation = num(meta, 'generation') ?? 0;
  if (generation < 0) errs.push(invalid('metadata.generation', goInt(generation), 'must be greater than or equal to 0'));
  errs.push(...validateLabels(strMap(meta, 'labels'), 'metadata.labels'));
  errs.push(...validateAnnotations(strMap(meta, 'annotations'), 'metadata.annotations'));
  for (const f of arr(meta, 'finalizers')) {
    for (const m of isQualifiedName(String(f))) errs.push(invalid('metadata.finalizers', goString(String(f)), m));
  }
  return errs;
}

/** ValidateObjectMeta(meta, namespaced, nameFn): name required ("name or generateName is required") and valid. */
export function validateObjectMeta(meta: Obj, namespaced: boolean, nameFn: (name: string) => string[]): FieldError[] {
  const errs: FieldError[] = [];
  const name = str(meta, 'name');
  if (name === '') errs.push(required('metadata.name', 'name or generateName is required'));
  else for (const m of nameFn(name)) errs.push(invalid('metadata.name', goString(name), m));
  return [...errs, ...validateCommon(meta, namespaced)];
}

/** ValidateObjectMetaAccessorUpdate: resourceVersion present, identity fields immutable, labels valid. */
export function validateObjectMetaUpdate(meta: Obj, old: Obj): FieldError[] {
  const errs: FieldError[] = [];
  if (str(meta, 'resourceVersion') === '') errs.push(invalid('metadata.resourceVersion', goString(''), 'must be specified for an update'));
  if ((num(meta, 'generation') ?? 0) < (num(old, 'generation') ?? 0)) {
    errs.push(invalid('metadata.generation', goInt(num(meta, 'generation') ?? 0), 'must not be decremented'));
  }
  for (const k of ['name', 'namespace', 'uid', 'creationTimestamp'] as const) {
    if (str(meta, k) !== str(old, k)) errs.push(invalid(`metadata.${k}`, goString(str(meta, k)), 'field is immutable'));
  }
  errs.push(...validateLabels(strMap(meta, 'labels'), 'metadata.labels'));
  errs.push(...validateAnnotations(strMap(meta, 'annotations'), 'metadata.annotations'));
  return errs;
}

/** ValidateLabelSelector (namespaceSelector / objectSelector of a webhook). */
export function validateLabelSelector(sel: Obj, fld: string): FieldError[] {
  const errs = validateLabels(strMap(sel, 'matchLabels'), `${fld}.matchLabels`);
  arr(sel, 'matchExpressions').forEach((e, i) => {
    const r = (e ?? {}) as Obj;
    const p = `${fld}.matchExpressions[${i}]`;
    const op = str(r, 'operator');
    const values = arr(r, 'values');
    if (op === 'In' || op === 'NotIn') {
      if (values.length === 0) errs.push(required(`${p}.values`, "must be specified when `operator` is 'In' or 'NotIn'"));
    } else if (op === 'Exists' || op === 'DoesNotExist') {
      if (values.length > 0) errs.push(forbidden(`${p}.values`, "may not be specified when `operator` is 'Exists' or 'DoesNotExist'"));
    } else {
      errs.push(invalid(`${p}.operator`, goString(op), 'not a valid selector operator'));
    }
    for (const m of isQualifiedName(str(r, 'key'))) errs.push(invalid(`${p}.key`, goString(str(r, 'key')), m));
    values.forEach((v, j) => {
      for (const m of isValidLabelValue(String(v))) errs.push(invalid(`${p}.values[${j}]`, goString(String(v)), m));
    });
  });
  return errs;
}

/** The bad value ErrorBody prints for a uint64 resourceVersion of 0 (`%#v` → 0x0). */
export const ZERO_RESOURCE_VERSION = goRaw('0x0');
