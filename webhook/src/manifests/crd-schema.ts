// Checks a CRD's openAPIV3Schema against the structural-schema rules the API
// server enforces (apiextensions.k8s.io/v1), and compiles it with ajv so example
// custom resources can be validated the way the API server would validate them.
// Imports ajv (dev dependency: tests only).
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';

/** One node of an OpenAPI v3 schema as CRDs write it. */
export interface SchemaNode {
  type?: string;
  properties?: Record<string, SchemaNode>;
  additionalProperties?: SchemaNode | boolean;
  items?: SchemaNode | SchemaNode[];
  required?: string[];
  enum?: unknown[];
  default?: unknown;
  [keyword: string]: unknown;
}

const TYPES = new Set(['object', 'array', 'string', 'integer', 'number', 'boolean']);

/**
 * Keywords the API server rejects in a v1 CRD schema, or (for the logical
 * combinators) that Skein's schemas avoid so every rule here stays simple.
 */
const FORBIDDEN = ['$ref', '$schema', 'id', 'definitions', 'dependencies', 'patternProperties', 'additionalItems',
  'allOf', 'anyOf', 'oneOf', 'not'];

/** The x-kubernetes-* extensions the schemas may use (unknown ones are typos). */
export const K8S_EXTENSIONS = ['x-kubernetes-list-type', 'x-kubernetes-list-map-keys', 'x-kubernetes-map-type',
  'x-kubernetes-preserve-unknown-fields', 'x-kubernetes-int-or-string', 'x-kubernetes-embedded-resource',
  'x-kubernetes-validations'];

/** Returns every structural-schema violation found under `node`; empty when the schema is structural. */
export function structuralProblems(node: SchemaNode, path = ''): string[] {
  const problems: string[] = [];
  const at = path || '<root>';
  const typed = node['x-kubernetes-int-or-string'] === true || node['x-kubernetes-preserve-unknown-fields'] === true;
  if (node.type === undefined && !typed) problems.push(`${at}: no type`);
  if (node.type !== undefined && !TYPES.has(node.type)) problems.push(`${at}: unknown type ${node.type}`);
  for (const k of FORBIDDEN) if (k in node) problems.push(`${at}: ${k} is not allowed`);
  for (const k of Object.keys(node)) {
    if (k.startsWith('x-kubernetes-') && !K8S_EXTENSIONS.includes(k)) problems.push(`${at}: unknown extension ${k}`);
  }
  if (node.uniqueItems === true) problems.push(`${at}: uniqueItems must not be true (use x-kubernetes-list-type: set)`);
  if (node.properties && node.additionalProperties !== undefined) {
    problems.push(`${at}: additionalProperties and properties are mutually exclusive`);
  }
  if (node.properties && node.type !== 'object') problems.push(`${at}: properties on a non-object`);
  if (node.type === 'array' && (node.items === undefined || Array.isArray(node.items))) {
    problems.push(`${at}: an array needs exactly one items schema`);
  }
  for (const key of node.required ?? []) {
    if (!node.properties || !(key in node.properties)) problems.push(`${at}: required "${key}" is not a property`);
  }
  const mapKeys = node['x-kubernetes-list-map-keys'];
  if (Array.isArray(mapKeys)) {
    const item = node.items as SchemaNode | undefined;
    for (const key of mapKeys as string[]) {
      if (!item?.required?.includes(key)) problems.push(`${at}: list map key "${key}" must be required in items`);
    }
  }
  for (const [name, child] of Object.entries(node.properties ?? {})) {
    const childPath = `${path}.${name}`;
    if (path === '' && name === 'metadata') {
      // Only name/generateName may be constrained under metadata; Skein constrains nothing.
      if (JSON.stringify(child) !== '{"type":"object"}') problems.push(`${childPath}: must be exactly {type: object}`);
      continue;
    }
    problems.push(...structuralProblems(child, childPath));
  }
  if (typeof node.additionalProperties === 'object') {
    problems.push(...structuralProblems(node.additionalProperties, `${path}.*`));
  }
  if (node.items && !Array.isArray(node.items)) problems.push(...structuralProblems(node.items, `${path}[]`));
  return problems;
}

/**
 * A copy of the schema in which every object with `properties` rejects unknown
 * fields. This models `kubectl apply` with its default server-side field
 * validation (Strict), which refuses unknown fields instead of pruning them.
 */
export function closeSchema(node: SchemaNode): SchemaNode {
  const copy: SchemaNode = { ...node };
  if (node.properties) {
    copy.properties = Object.fromEntries(Object.entries(node.properties).map(([k, v]) => [k, closeSchema(v)]));
    if (node.additionalProperties === undefined && node['x-kubernetes-preserve-unknown-fields'] !== true) {
      copy.additionalProperties = false;
    }
  }
  if (typeof node.additionalProperties === 'object') copy.additionalProperties = closeSchema(node.additionalProperties);
  if (node.items && !Array.isArray(node.items)) copy.items = closeSchema(node.items);
  return copy;
}

const RFC3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/;

/** An ajv instance that knows the formats and extensions CRD schemas use; applies defaults like the API server. */
export function crdAjv(): Ajv {
  const ajv = new Ajv({ allErrors: true, strict: true, strictTypes: true, useDefaults: true });
  for (const keyword of K8S_EXTENSIONS) ajv.addKeyword({ keyword });
  ajv.addFormat('int32', { type: 'number', validate: (n: number) => Number.isInteger(n) && n >= -(2 ** 31) && n < 2 ** 31 });
  ajv.addFormat('int64', { type: 'number', validate: (n: number) => Number.isSafeInteger(n) });
  ajv.addFormat('date-time', { type: 'string', validate: (s: string) => RFC3339.test(s) && !Number.isNaN(Date.parse(s)) });
  return ajv;
}

/** Compiles a CRD version's schema (closed against unknown fields) into a validator of whole custom resources. */
export function compileCrdSchema(ajv: Ajv, schema: SchemaNode): ValidateFunction {
  return ajv.compile(closeSchema(schema));
}

/** "instancePath keyword" of each error, e.g. "/spec/mtls/mode enum": stable strings to assert on. */
export function errorKeys(errors: ErrorObject[] | null | undefined): string[] {
  return (errors ?? []).map((e) => `${e.instancePath} ${e.keyword}`);
}

/** Every schema node that declares a default, with its path (the API server requires each default to validate). */
export function nodesWithDefaults(node: SchemaNode, path = ''): Array<{ path: string; node: SchemaNode }> {
  const out: Array<{ path: string; node: SchemaNode }> = [];
  if (node.default !== undefined) out.push({ path: path || '<root>', node });
  for (const [name, child] of Object.entries(node.properties ?? {})) out.push(...nodesWithDefaults(child, `${path}.${name}`));
  if (typeof node.additionalProperties === 'object') out.push(...nodesWithDefaults(node.additionalProperties, `${path}.*`));
  if (node.items && !Array.isArray(node.items)) out.push(...nodesWithDefaults(node.items, `${path}[]`));
  return out;
}
