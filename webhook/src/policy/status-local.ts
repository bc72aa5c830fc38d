// Local mode's status of TrafficPermissions: one JSON file per object,
// <stateDir>/status/TrafficPermission/<namespace>/<name>.json, holding the `status` object
// ({observedGeneration, conditions}); `skein-local get trafficpermission NAME -o json` merges it into
// the object it shows (e2e/src/local/commands). Written to <name>.json.tmp and renamed, so a reader
// never sees half a file; removed when its object is deleted.
import { mkdir, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from '../log.js';
import type { PolicyStatus, StatusStore } from './status-store.js';

export const STATUS_KIND_DIR = 'TrafficPermission';

/** A name that is safe as one path component (store names are DNS names; anything else is not written). */
const SAFE_NAME = /^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/;

export const localStatusFile = (statusDir: string, namespace: string, name: string): string =>
  join(statusDir, STATUS_KIND_DIR, namespace, `${name}.json`);

export function localStatusStore(opts: { statusDir: string; log: Logger }): StatusStore {
  const { statusDir, log } = opts;
  /** What the files hold: read once (init), then kept as written. */
  const cache = new Map<string, PolicyStatus>();
  const base = join(statusDir, STATUS_KIND_DIR);

  async function files(): Promise<{ ns: string; file: string; key: string }[]> {
    const out: { ns: string; file: string; key: string }[] = [];
    let namespaces: string[];
    try { namespaces = await readdir(base); } catch { return out; }
    for (const ns of namespaces) {
      let entries: string[];
      try { entries = await readdir(join(base, ns)); } catch { continue; }
      for (const file of entries) {
        const name = file.endsWith('.json') ? file.slice(0, -'.json'.length) : file.endsWith('.json.tmp') ? file.slice(0, -'.json.tmp'.length) : undefined;
        if (name !== undefined) out.push({ ns, file, key: `${ns}/${name}` });
      }
    }
    return out;
  }

  return {
    init: async () => {
      // What an earlier run wrote: lastTransitionTime survives a restart of skein-cp.
      for (const f of await files()) {
        if (!f.file.endsWith('.json')) continue;
        try {
          cache.set(f.key, JSON.parse(await readFile(join(base, f.ns, f.file), 'utf8')) as PolicyStatus);
        } catch {
          // unreadable: rewritten by the first pass
        }
      }
    },
    stored: (key) => cache.get(key),
    write: async (key, o, status) => {
      const ns = o.metadata?.namespace ?? '';
      const name = o.metadata?.name ?? '';
      if (!SAFE_NAME.test(ns) || !SAFE_NAME.test(name)) {
        log.warn({ policy: key }, 'a TrafficPermission name is not a DNS name; its status is not written (its verdict is in this log)');
        return true;
      }
      const file = localStatusFile(statusDir, ns, name);
      await mkdir(join(base, ns), { recursive: true });
      await writeFile(`${file}.tmp`, `${JSON.stringify(status, null, 2)}\n`);
      await rename(`${file}.tmp`, file);
      cache.set(key, status);
      return true;
    },
    sweep: async (live) => {
      for (const f of await files()) {
        if (live.has(f.key)) continue;
        await rm(join(base, f.ns, f.file), { force: true });
        cache.delete(f.key);
      }
    },
  };
}
