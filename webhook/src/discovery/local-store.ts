// Local mode's cluster source: skein-local's object store, one JSON object per file at
// <dir>/<Kind>/<namespace>/<name>.json (cluster-scoped kinds under the folder "_cluster"), each written
// to <name>.json.tmp and renamed over the old file (e2e/src/local/store/store.ts), deleted with unlink.
//
// Change detection: a rescan every 200 ms (changes reach the state within about that). A rescan is
// cheap: it stats each namespace folder and reads a folder's entries only when the folder changed (a
// rename or unlink in it sets its mtime); it reads a file only when its inode, size or mtime changed.
// File times on Linux advance in jiffies (1-10 ms), so an entry whose mtime is within the last second
// is looked at again on every scan until it is older ("racy timestamps", as git does): two writes within
// one jiffy are never missed. fs.watch would save the idle stats but misses events across folder
// creation and needs the rescan anyway; at skein-local's size (hundreds of files) a scan costs well
// under a millisecond.
//
// A file that does not parse or does not name an object of its folder's kind, namespace and name is
// skipped with a warning (once per version of the file); the last good object of that name is kept.
import { readdirSync, readFileSync, statSync, type Stats } from 'node:fs';
import { join } from 'node:path';
import type { Logger } from '../log.js';
import { MutableClusterState } from './state.js';
import type { ClusterSource, ClusterState, KindName } from './types.js';

export const LOCAL_STORE_SCAN_MS = 200;
/** skein-local's folder for cluster-scoped objects (store.ts `file()`). */
export const CLUSTER_SCOPED_DIR = '_cluster';
const RACY_MS = 1000;

const KINDS: readonly { dir: string; kind: KindName; namespaced: boolean }[] = [
  { dir: 'Pod', kind: 'pods', namespaced: true },
  { dir: 'Service', kind: 'services', namespaced: true },
  { dir: 'EndpointSlice', kind: 'endpointSlices', namespaced: true },
  { dir: 'Namespace', kind: 'namespaces', namespaced: false },
  { dir: 'Mesh', kind: 'meshes', namespaced: false },
  { dir: 'TrafficPermission', kind: 'trafficPermissions', namespaced: true },
];

interface FileSig { ino: number; size: number; mtimeMs: number }
interface DirSig { ino: number; mtimeMs: number; files: Map<string, FileSig> }

const sameFile = (a: FileSig | undefined, b: Stats): boolean => a !== undefined && a.ino === b.ino && a.size === b.size && a.mtimeMs === b.mtimeMs;

function statOrUndefined(path: string): Stats | undefined {
  try {
    return statSync(path);
  } catch {
    return undefined;
  }
}

function listOrEmpty(path: string): string[] {
  try {
    return readdirSync(path);
  } catch {
    return [];
  }
}

export function localStoreSource(opts: { dir: string; log: Logger; scanIntervalMs?: number }): ClusterSource & { eventCounts(): Readonly<Partial<Record<KindName, number>>> } {
  const { dir, log } = opts;
  const state = new MutableClusterState();
  const dirs = new Map<string, DirSig>(); // "<Kind>/<nsdir>" → what was seen
  const warned = new Map<string, string>(); // file path → signature of the bad version already reported
  let timer: NodeJS.Timeout | undefined;
  let warnedMissing = false;

  function warnOnce(path: string, sig: Stats, msg: string, err?: unknown): void {
    const s = `${sig.ino}:${sig.size}:${sig.mtimeMs}`;
    if (warned.get(path) === s) return;
    warned.set(path, s);
    log.warn({ file: path, err }, `${msg}; skipped (the last good version of this object, if any, is kept)`);
  }

  function readObject(path: string, st: Stats, kind: (typeof KINDS)[number], ns: string, name: string): Record<string, unknown> | undefined {
    let o: unknown;
    try {
      o = JSON.parse(readFileSync(path, 'utf8'));
    } catch (err) {
      warnOnce(path, st, 'cannot read or parse a store file', err);
      return undefined;
    }
    const meta = (o as { metadata?: { name?: unknown; namespace?: unknown } } | null)?.metadata;
    const objKind = (o as { kind?: unknown } | null)?.kind;
    if (typeof o !== 'object' || o === null || Array.isArray(o) || typeof meta !== 'object' || meta === null) {
      warnOnce(path, st, 'a store file does not hold a Kubernetes object (no metadata)');
      return undefined;
    }
    if (objKind !== kind.dir || meta.name !== name || (kind.namespaced ? meta.namespace !== ns : meta.namespace !== undefined && meta.namespace !== '')) {
      warnOnce(path, st, `a store file's object is not the ${kind.dir} ${kind.namespaced ? `${ns}/` : ''}${name} its path names`);
      return undefined;
    }
    warned.delete(path);
    return o as Record<string, unknown>;
  }

  /** One pass over the store; true when the state changed. */
  function scan(): boolean {
    const now = Date.now();
    const racy = (mtimeMs: number): boolean => now - mtimeMs < RACY_MS;
    let changed = false;
    if (statOrUndefined(dir) === undefined && !warnedMissing) {
      warnedMissing = true;
      log.warn({ dir }, 'the local object store does not exist (yet); discovery sees an empty cluster until it does');
    }
    const seenDirs = new Set<string>();
    for (const kind of KINDS) {
      for (const nsDir of listOrEmpty(join(dir, kind.dir))) {
        if (kind.namespaced === (nsDir === CLUSTER_SCOPED_DIR)) continue;
        const ns = kind.namespaced ? nsDir : '';
        const rel = `${kind.dir}/${nsDir}`;
        const path = join(dir, kind.dir, nsDir);
        const dst = statOrUndefined(path);
        if (!dst?.isDirectory()) continue;
        seenDirs.add(rel);
        const prev = dirs.get(rel);
        if (prev && prev.ino === dst.ino && prev.mtimeMs === dst.mtimeMs && !racy(dst.mtimeMs) && ![...prev.files.values()].some((f) => racy(f.mtimeMs))) continue;
        const files = new Map<string, FileSig>();
        for (const entry of listOrEmpty(path)) {
          if (!entry.endsWith('.json')) continue; // <name>.json.tmp: a write in progress
          const name = entry.slice(0, -'.json'.length);
          const file = join(path, entry);
          const st = statOrUndefined(file);
          if (!st?.isFile()) continue;
          const old = prev?.files.get(name);
          files.set(name, { ino: st.ino, size: st.size, mtimeMs: st.mtimeMs });
          if (sameFile(old, st) && !racy(st.mtimeMs)) continue;
          const o = readObject(file, st, kind, ns, name);
          if (o !== undefined && state.set(kind.kind, `${ns}/${name}`, o)) changed = true;
        }
        for (const name of prev?.files.keys() ?? []) {
          if (!files.has(name) && state.delete(kind.kind, `${ns}/${name}`)) changed = true;
        }
        dirs.set(rel, { ino: dst.ino, mtimeMs: dst.mtimeMs, files });
      }
    }
    for (const [rel, sig] of dirs) {
      if (seenDirs.has(rel)) continue;
      const [kindDir = '', nsDir = ''] = rel.split('/');
      const kind = KINDS.find((k) => k.dir === kindDir);
      const ns = kind?.namespaced ? nsDir : '';
      for (const name of sig.files.keys()) if (kind && state.delete(kind.kind, `${ns}/${name}`)) changed = true;
      dirs.delete(rel);
    }
    return changed;
  }

  function tick(): void {
    try {
      if (scan()) state.notify((err) => log.error({ err }, 'a discovery change listener failed'));
    } catch (err) {
      log.error({ err, dir }, 'scanning the local object store failed; retrying at the next scan');
    }
  }

  return {
    start: async () => {
      scan();
      timer ??= setInterval(tick, opts.scanIntervalMs ?? LOCAL_STORE_SCAN_MS);
      timer.unref();
    },
    state: (): ClusterState => state.view(),
    onChange: (listener) => state.onChange(listener),
    eventCounts: () => state.eventCounts(),
    stop: async () => {
      if (timer) clearInterval(timer);
      timer = undefined;
    },
  };
}
