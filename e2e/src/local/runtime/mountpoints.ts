// Mount targets that do not exist on the host (e.g. /var/run/secrets/skein/token) must be created before
// a bind mount. They are created on the host filesystem (mount namespaces share it), journaled, and
// removed by `down` only while empty.
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import type { Journal } from '../state/journal.js';

export function ensureMountTarget(target: string, isFile: boolean, journal: Journal): void {
  if (existsSync(target)) return;
  const missing: string[] = [];
  for (let p = isFile ? dirname(target) : target; !existsSync(p); p = dirname(p)) missing.unshift(p);
  for (const p of missing) {
    journal.record({ t: 'mountpoint', path: p });
    mkdirSync(p);
  }
  if (isFile) {
    journal.record({ t: 'mountpoint', path: target });
    writeFileSync(target, '');
  }
}
