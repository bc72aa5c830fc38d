// Reads a kustomize base the way `kubectl kustomize` would for the subset Skein
// uses (plain `resources`, no transformers), so tests can check the manifests
// on machines without kubectl. Imports only node: built-ins and `yaml`.
import { readFileSync, statSync, existsSync } from 'node:fs';
import { join, relative } from 'node:path';
import { parseAllDocuments } from 'yaml';

/** One Kubernetes object from a manifest file, with where it came from. */
export interface ManifestObject {
  readonly source: string; // path relative to the kustomization root, e.g. "crds/mesh.yaml"
  readonly index: number; // position of the document in its file
  readonly object: Record<string, unknown>;
}

/**
 * The kustomization keys this reader understands. Anything else (namespace:,
 * labels:, patches:, images:, ...) transforms objects, and this reader would
 * then disagree with kustomize; it refuses instead of guessing.
 */
const SUPPORTED_KEYS = new Set(['apiVersion', 'kind', 'resources']);

export class UnsupportedKustomizationError extends Error {
  readonly code = 'MANIFESTS_UNSUPPORTED_KUSTOMIZATION';
}

/** Parses every document of a YAML file; empty documents (comments only) are skipped. */
export function readYamlDocuments(file: string): Record<string, unknown>[] {
  const docs = parseAllDocuments(readFileSync(file, 'utf8'));
  const out: Record<string, unknown>[] = [];
  for (const doc of docs) {
    if (doc.errors.length > 0) throw new Error(`${file}: ${doc.errors[0]?.message ?? 'YAML error'}`);
    const value: unknown = doc.toJS();
    if (value === null || value === undefined) continue;
    if (typeof value !== 'object' || Array.isArray(value)) throw new Error(`${file}: a document is not a mapping`);
    out.push(value as Record<string, unknown>);
  }
  return out;
}

/** All objects of the kustomization in `dir`, following resources into files and sub-kustomizations, in order. */
export function loadKustomization(dir: string, root: string = dir): ManifestObject[] {
  const kfile = join(dir, 'kustomization.yaml');
  const [k] = readYamlDocuments(kfile);
  if (!k) throw new Error(`${kfile}: empty kustomization`);
  for (const key of Object.keys(k)) {
    if (!SUPPORTED_KEYS.has(key)) {
      throw new UnsupportedKustomizationError(`${kfile}: key "${key}" is a transformer this reader does not model; ` +
        'write the value into the resource files instead or teach webhook/src/manifests/kustomize.ts about it');
    }
  }
  const resources = k.resources ?? [];
  if (!Array.isArray(resources)) throw new Error(`${kfile}: resources is not a list`);
  const out: ManifestObject[] = [];
  for (const entry of resources) {
    if (typeof entry !== 'string') throw new Error(`${kfile}: resource entry ${JSON.stringify(entry)} is not a path`);
    const path = join(dir, entry);
    if (!existsSync(path)) throw new Error(`${kfile}: resource ${entry} does not exist`);
    if (statSync(path).isDirectory()) {
      out.push(...loadKustomization(path, root));
      continue;
    }
    readYamlDocuments(path).forEach((object, index) => out.push({ source: relative(root, path), index, object }));
  }
  return out;
}

/** The files a kustomization lists, directly or through sub-kustomizations (relative to `root`). */
export function listedFiles(dir: string, root: string = dir): string[] {
  return [...new Set(loadKustomization(dir, root).map((m) => m.source))];
}

/** `apiVersion/kind`, the key objects are validated by. */
export function gvk(object: Record<string, unknown>): string {
  return `${String(object.apiVersion)}/${String(object.kind)}`;
}

/** `kind namespace/name` for messages. */
export function describe(m: ManifestObject): string {
  const meta = (m.object.metadata ?? {}) as { name?: string; namespace?: string };
  const ns = meta.namespace ? `${meta.namespace}/` : '';
  return `${String(m.object.kind)} ${ns}${meta.name ?? '?'} (${m.source}#${m.index})`;
}
