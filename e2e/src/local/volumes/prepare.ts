// Materialises a pod's volumes as host directories under <state>/pods/<uid>/volumes/<name>; containers
// bind-mount them. ConfigMap/Secret contents are written at pod start, byte for byte (no live updates);
// an emptyDir with medium: Memory is a tmpfs (tmpfs.ts); projected service account tokens are re-minted
// by the pod worker at 80% of their lifetime.
import type { KeyObject } from 'node:crypto';
import { chmod, mkdir, rename, stat, writeFile } from 'node:fs/promises';
import { dirname, join, normalize } from 'node:path';
import { VolumeError } from '../errors.js';
import type { DownwardApiFile, KeyToPath, Pod, Volume } from '../model/types.js';
import { fieldRefValue, resourceValue, type Lookup, type NodeFacts } from '../runtime/env.js';
import type { Journal } from '../state/journal.js';
import { memoryVolumeBytes, mountTmpfs } from './tmpfs.js';
import { mintToken } from './token.js';

export interface VolumeContext { lookup: Lookup; node: NodeFacts; signingKey: KeyObject; journal: Journal }

export interface PreparedVolume { name: string; hostPath: string; isFile: boolean }

/** Seconds until the earliest projected token needs re-minting (80% of its lifetime), if any. */
export function tokenRefreshSeconds(pod: Pod): number | undefined {
  let min: number | undefined;
  for (const v of pod.spec.volumes ?? []) {
    for (const s of v.projected?.sources ?? []) {
      if (s.serviceAccountToken) {
        const t = Math.floor((s.serviceAccountToken.expirationSeconds ?? 3600) * 0.8);
        min = min === undefined ? t : Math.min(min, t);
      }
    }
  }
  return min;
}

export async function prepareVolumes(pod: Pod, root: string, ctx: VolumeContext): Promise<Map<string, PreparedVolume>> {
  const out = new Map<string, PreparedVolume>();
  for (const v of pod.spec.volumes ?? []) out.set(v.name, await prepareVolume(pod, v, join(root, v.name), ctx));
  return out;
}

async function prepareVolume(pod: Pod, v: Volume, dir: string, ctx: VolumeContext): Promise<PreparedVolume> {
  if (v.hostPath) return hostPathVolume(v);
  await mkdir(dir, { recursive: true });
  const files = new Map<string, { data: string | Buffer; mode?: number }>();
  if (v.emptyDir?.medium === 'Memory') {
    await mountTmpfs(dir, memoryVolumeBytes(pod, v, ctx.node.memoryBytes), ctx.journal);
  } else if (v.emptyDir) {
    if (v.emptyDir.medium) {
      throw new VolumeError(`volume "${v.name}": emptyDir medium "${v.emptyDir.medium}" is not supported by skein-local (use "" or Memory)`);
    }
    // World-writable like kubelet's emptyDir so non-root containers can use it.
    await chmod(dir, 0o777);
  } else if (v.configMap) {
    addKeys(files, 'ConfigMap', v.configMap.name, v.configMap.items, v.configMap.optional, ctx);
  } else if (v.secret) {
    addKeys(files, 'Secret', v.secret.secretName, v.secret.items, v.secret.optional, ctx);
  } else if (v.downwardAPI) {
    addDownward(files, pod, v.downwardAPI.items, ctx);
  } else if (v.projected) {
    for (const s of v.projected.sources ?? []) {
      if (s.configMap) addKeys(files, 'ConfigMap', s.configMap.name, s.configMap.items, s.configMap.optional, ctx);
      if (s.secret) addKeys(files, 'Secret', s.secret.name, s.secret.items, s.secret.optional, ctx);
      if (s.downwardAPI) addDownward(files, pod, s.downwardAPI.items, ctx);
      if (s.serviceAccountToken) files.set(s.serviceAccountToken.path, { data: podToken(pod, s.serviceAccountToken, ctx) });
    }
  } else {
    throw new VolumeError(`volume "${v.name}": type not supported by skein-local (use emptyDir, hostPath, configMap, secret, downwardAPI or projected)`);
  }
  const dflt = v.configMap?.defaultMode ?? v.secret?.defaultMode ?? v.downwardAPI?.defaultMode ?? v.projected?.defaultMode ?? 0o644;
  for (const [rel, f] of files) await writeAtomic(dir, rel, f.data, f.mode ?? dflt);
  return { name: v.name, hostPath: dir, isFile: false };
}

async function hostPathVolume(v: Volume): Promise<PreparedVolume> {
  const { path, type } = v.hostPath!;
  if (type === 'DirectoryOrCreate') await mkdir(path, { recursive: true });
  if (type === 'FileOrCreate') {
    await mkdir(dirname(path), { recursive: true });
    await writeFile(path, '', { flag: 'a' });
  }
  try {
    const st = await stat(path);
    return { name: v.name, hostPath: path, isFile: st.isFile() };
  } catch {
    throw new VolumeError(`volume "${v.name}": hostPath ${path} does not exist (create it, or set type: DirectoryOrCreate)`);
  }
}

function addKeys(files: Map<string, { data: string | Buffer; mode?: number }>, kind: 'ConfigMap' | 'Secret', name: string,
  items: KeyToPath[] | undefined, optional: boolean | undefined, ctx: VolumeContext): void {
  const data = ctx.lookup(kind, name);
  if (!data) {
    if (optional) return;
    throw new VolumeError(`${kind} "${name}" not found (the pod waits until it exists)`);
  }
  if (items) {
    for (const it of items) {
      const bytes = data.files.get(it.key);
      if (!bytes) throw new VolumeError(`${kind} "${name}" has no key "${it.key}"`);
      files.set(it.path, { data: bytes, mode: it.mode });
    }
  } else {
    for (const [k, bytes] of data.files) files.set(k, { data: bytes });
  }
}

function addDownward(files: Map<string, { data: string | Buffer; mode?: number }>, pod: Pod, items: DownwardApiFile[] | undefined, ctx: VolumeContext): void {
  for (const it of items ?? []) {
    let value: string | undefined;
    if (it.fieldRef) value = fieldRefValue(pod, it.fieldRef.fieldPath, ctx.node);
    else if (it.resourceFieldRef) {
      const c = pod.spec.containers.find((x) => x.name === it.resourceFieldRef!.containerName) ?? pod.spec.containers[0];
      value = resourceValue(c, it.resourceFieldRef.resource, it.resourceFieldRef.divisor, ctx.node);
    }
    if (value === undefined) throw new VolumeError(`downwardAPI item ${it.path}: field not supported`);
    files.set(it.path, { data: value, mode: it.mode });
  }
}

function podToken(pod: Pod, t: { audience?: string; expirationSeconds?: number }, ctx: VolumeContext): string {
  return mintToken(ctx.signingKey, {
    namespace: pod.metadata.namespace ?? 'default',
    serviceAccount: pod.spec.serviceAccountName ?? 'default',
    audiences: [t.audience ?? ISSUER_AUDIENCE],
    expirationSeconds: t.expirationSeconds ?? 3600,
    pod: { name: pod.metadata.name!, uid: pod.metadata.uid! },
  });
}

/** Default audience of a projected token without `audience`: the API server's, here skein-local's. */
const ISSUER_AUDIENCE = 'skein-local';

/** Writes via rename so a container never reads a half-written token or certificate. */
async function writeAtomic(dir: string, rel: string, data: string | Buffer, mode: number): Promise<void> {
  const path = normalize(join(dir, rel));
  if (!path.startsWith(`${dir}/`)) throw new VolumeError(`volume item path "${rel}" escapes the volume`);
  await mkdir(dirname(path), { recursive: true });
  const tmp = `${path}.skl-tmp`;
  await writeFile(tmp, data, { mode });
  await chmod(tmp, mode);
  await rename(tmp, path);
}
