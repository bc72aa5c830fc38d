// Host-wide sysctls an instance needs but cannot set per interface. Today that is only IPv6
// forwarding on kernels before 6.17, which lack net.ipv6.conf.<bridge>.force_forwarding: there the
// whole host's net.ipv6.conf.all.forwarding must be 1. Several instances can need it at once, so the
// value from before the first of them is kept in one host-wide record with the state dirs that hold
// it; each `down` (also after a crash: the journal names the key) lets go, and the last one restores
// the value. A holder whose state dir no longer records an instance (instance.json gone) is dropped.
import { existsSync, mkdirSync, readFileSync, renameSync, rmdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export interface SysctlRegistry {
  /** Where the records live (one JSON file per key). */
  readonly dir: string;
  /** /proc/sys, or a directory standing in for it in tests. */
  readonly procSys: string;
}

export const HOST_REGISTRY: SysctlRegistry = { dir: '/run/skein-local-sysctl', procSys: '/proc/sys' };

interface SysctlRecord { previous: string; holders: string[] }

/** Sets `key` (e.g. `net/ipv6/conf/all/forwarding`) to `value` for `holder` (a state dir). */
export function holdSysctl(key: string, value: string, holder: string, reg: SysctlRegistry = HOST_REGISTRY): void {
  withLock(reg, () => {
    const rec = readRecord(reg, key) ?? { previous: readFileSync(join(reg.procSys, key), 'utf8').trim(), holders: [] };
    if (!rec.holders.includes(holder)) rec.holders.push(holder);
    writeRecord(reg, key, rec);
    writeFileSync(join(reg.procSys, key), value);
  });
}

/** Lets go of `key` for `holder`; restores the recorded value when no live holder is left. */
export function releaseSysctl(key: string, holder: string, reg: SysctlRegistry = HOST_REGISTRY,
  alive: (holder: string) => boolean = (h) => existsSync(join(h, 'instance.json'))): void {
  withLock(reg, () => {
    const rec = readRecord(reg, key);
    if (!rec) return;
    rec.holders = rec.holders.filter((h) => h !== holder && alive(h));
    if (rec.holders.length > 0) return writeRecord(reg, key, rec);
    writeFileSync(join(reg.procSys, key), rec.previous);
    rmSync(recordPath(reg, key), { force: true });
  });
}

function recordPath(reg: SysctlRegistry, key: string): string {
  return join(reg.dir, `${key.replace(/\//g, '.')}.json`);
}

function readRecord(reg: SysctlRegistry, key: string): SysctlRecord | undefined {
  try {
    return JSON.parse(readFileSync(recordPath(reg, key), 'utf8')) as SysctlRecord;
  } catch {
    return undefined;
  }
}

function writeRecord(reg: SysctlRegistry, key: string, rec: SysctlRecord): void {
  const f = recordPath(reg, key);
  writeFileSync(`${f}.tmp`, `${JSON.stringify(rec)}\n`, { mode: 0o600 });
  renameSync(`${f}.tmp`, f);
}

/** A lock directory: mkdir is atomic. A lock older than 10 s is a crashed holder's and is broken. */
function withLock(reg: SysctlRegistry, f: () => void): void {
  const lock = join(reg.dir, '.lock');
  const deadline = Date.now() + 15_000;
  for (;;) {
    try {
      mkdirSync(reg.dir, { recursive: true, mode: 0o700 });
      mkdirSync(lock);
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') continue; // another instance removed the empty dir just now
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      try { if (Date.now() - statSync(lock).mtimeMs > 10_000) rmSync(lock, { recursive: true, force: true }); } catch { /* just released */ }
      if (Date.now() > deadline) throw new Error(`${lock} is held by another skein-local for over 15 s: remove it if no skein-local runs`);
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 20);
    }
  }
  try {
    f();
  } finally {
    rmSync(lock, { recursive: true, force: true });
    // Nothing held host-wide any more (the usual case: kernels with per-bridge forwarding): leave no folder.
    try { rmdirSync(reg.dir); } catch { /* records remain, or another instance holds the lock */ }
  }
}

/** The one key skein-local may hold host-wide (kernels without per-interface IPv6 force_forwarding). */
export const IPV6_FORWARDING = 'net/ipv6/conf/all/forwarding';
