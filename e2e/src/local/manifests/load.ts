// Reading manifests: a file or a directory of YAML files, each possibly multi-document.
import { readdir, readFile, stat } from 'node:fs/promises';
import { extname, join } from 'node:path';
import { LineCounter, parseAllDocuments } from 'yaml';
import { ManifestError } from '../errors.js';
import type { KubeObject } from '../model/types.js';
import { kindInfo, KINDS } from '../store/kinds.js';

/** Loads every object of PATH (sorted file order), validating kind, apiVersion and name. */
export async function loadManifests(path: string): Promise<KubeObject[]> {
  let files: string[];
  try {
    const st = await stat(path);
    files = st.isDirectory()
      ? (await readdir(path)).filter((f) => ['.yaml', '.yml', '.json'].includes(extname(f))).sort().map((f) => join(path, f))
      : [path];
  } catch {
    throw new ManifestError(`${path}: no such file or directory`);
  }
  const out: KubeObject[] = [];
  for (const f of files) out.push(...parseManifests(await readFile(f, 'utf8'), f));
  return out;
}

/** Parses YAML text into objects; errors name the file and line. */
export function parseManifests(text: string, file: string): KubeObject[] {
  const lc = new LineCounter();
  const docs = parseAllDocuments(text, { lineCounter: lc });
  if (!Array.isArray(docs)) throw new ManifestError(`${file}: not a YAML stream`);
  const out: KubeObject[] = [];
  for (const doc of docs) {
    const err = doc.errors[0];
    if (err) {
      const pos = lc.linePos(err.pos[0]);
      throw new ManifestError(`${file}:${pos.line}: invalid YAML: ${err.message.split('\n')[0]}`);
    }
    const value: unknown = doc.toJS();
    if (value === null || value === undefined) continue;
    const line = doc.contents ? lc.linePos(doc.contents.range[0]).line : 1;
    const where = `${file}:${line}`;
    if (typeof value !== 'object' || Array.isArray(value)) throw new ManifestError(`${where}: expected a Kubernetes object (a mapping with kind and metadata)`);
    const obj = value as KubeObject;
    if (obj.kind === 'List' && Array.isArray((obj as { items?: unknown }).items)) {
      for (const item of (obj as unknown as { items: KubeObject[] }).items) out.push(validateObject(item, where));
      continue;
    }
    out.push(validateObject(obj, where));
  }
  return out;
}

export function validateObject(obj: KubeObject, where: string): KubeObject {
  if (typeof obj !== 'object' || obj === null) throw new ManifestError(`${where}: expected a Kubernetes object`);
  const info = kindInfo(obj.kind);
  if (!info) {
    throw new ManifestError(`${where}: unknown kind "${String(obj.kind)}": skein-local serves ${KINDS.map((k) => k.kind).join(', ')}`);
  }
  if (!info.apiVersions.includes(obj.apiVersion)) {
    throw new ManifestError(`${where}: ${obj.kind} needs apiVersion ${info.apiVersions.join(' or ')} (got "${String(obj.apiVersion)}")`);
  }
  const md = obj.metadata;
  if (typeof md !== 'object' || md === null) throw new ManifestError(`${where}: ${obj.kind} has no metadata`);
  if (!md.name && !(obj.kind === 'Pod' && md.generateName)) throw new ManifestError(`${where}: ${obj.kind} has no metadata.name`);
  if (md.name && !/^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$/.test(md.name)) {
    throw new ManifestError(`${where}: ${obj.kind} name "${md.name}" is not a valid DNS-1123 name (lower-case letters, digits, '-', '.')`);
  }
  return obj;
}
