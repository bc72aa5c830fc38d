// Local mode: the mesh CA lives in <stateDir>/mesh-ca/ (directory 0700), in the same four files as the
// Kubernetes Secret's keys (material.ts): tls.crt, tls.key (0600), optional ca.crt and extra-roots.pem.
// A root is generated there on first start and reused afterwards. The public trust anchors are written to
// trust-bundle.pem (atomically, 0644) whenever they change; skein-local publishes that file. The files are
// re-read every few seconds, so a user who replaces them (a rotation, docs/identity.md) needs no restart;
// a half-edited or broken set is reported and the CA in use is kept.
import { chmod, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { ensureDir, writeFileAtomic } from '../../config/state-dir.js';
import { StateDirError } from '../../errors.js';
import type { Logger } from '../../log.js';
import { SwappableCa, type MeshCa } from './mesh-ca.js';
import { KEY_CA_CRT, KEY_EXTRA_ROOTS, KEY_TLS_CRT, KEY_TLS_KEY, loadCaMaterial, type CaSource } from './material.js';
import { generateRootCa } from './root.js';

export const MESH_CA_DIR = 'mesh-ca';
export const TRUST_BUNDLE_FILE = 'trust-bundle.pem';
export const LOCAL_RELOAD_MS = 5_000;

export interface LocalMeshCaOptions {
  readonly stateDir: string;
  readonly trustDomain: string;
  readonly log: Logger;
  /** How often the files are re-read (tests shorten it). */
  readonly reloadIntervalMs?: number;
}

async function readOptional(path: string): Promise<string | undefined> {
  try {
    return await readFile(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new StateDirError(`cannot read ${path}: ${(err as Error).message}`, { cause: err });
  }
}

async function readSource(dir: string): Promise<Partial<CaSource>> {
  const [certPem, keyPem, caCrtPem, extraRootsPem] = await Promise.all(
    [KEY_TLS_CRT, KEY_TLS_KEY, KEY_CA_CRT, KEY_EXTRA_ROOTS].map((f) => readOptional(join(dir, f))),
  );
  return { certPem, keyPem, caCrtPem, extraRootsPem };
}

const fingerprintOf = (s: Partial<CaSource>): string => JSON.stringify([s.certPem, s.keyPem, s.caCrtPem, s.extraRootsPem]);

function complete(dir: string, s: Partial<CaSource>): CaSource {
  if (s.certPem === undefined || s.keyPem === undefined) {
    const missing = s.certPem === undefined ? KEY_TLS_CRT : KEY_TLS_KEY;
    throw new StateDirError(`${dir} has ${missing === KEY_TLS_CRT ? KEY_TLS_KEY : KEY_TLS_CRT} but no ${missing}; restore ${missing}, or remove the directory to start a new mesh CA (every sidecar must then get a new certificate)`);
  }
  return { certPem: s.certPem, keyPem: s.keyPem, caCrtPem: s.caCrtPem, extraRootsPem: s.extraRootsPem };
}

async function tightenKeyMode(path: string, log: Logger): Promise<void> {
  const st = await stat(path);
  if ((st.mode & 0o077) !== 0) {
    await chmod(path, 0o600);
    log.warn({ path, mode: (st.mode & 0o777).toString(8) }, 'mesh CA key was readable by others; set it to 0600');
  }
}

export async function startLocalMeshCa(opts: LocalMeshCaOptions): Promise<MeshCa> {
  const log = opts.log;
  const dir = join(opts.stateDir, MESH_CA_DIR);
  const where = `${dir}/`;
  await ensureDir(dir, 0o700);
  await chmod(dir, 0o700);
  let source = await readSource(dir);
  if (source.certPem === undefined && source.keyPem === undefined) {
    const root = await generateRootCa(opts.trustDomain);
    // Key first: a certificate without its key would be unusable at the next start.
    await writeFileAtomic(join(dir, KEY_TLS_KEY), root.keyPem, 0o600);
    await writeFileAtomic(join(dir, KEY_TLS_CRT), root.certPem, 0o644);
    log.info({ dir }, 'created a new mesh root CA');
    source = await readSource(dir);
  }
  await tightenKeyMode(join(dir, KEY_TLS_KEY), log);

  // Compared with what is on disk each time, so a deleted or edited bundle is put back too.
  const writeBundle = async (pems: readonly string[]): Promise<void> => {
    const text = pems.join('');
    const path = join(dir, TRUST_BUNDLE_FILE);
    if ((await readOptional(path)) === text) return;
    await writeFileAtomic(path, text, 0o644);
    log.info({ path, anchors: pems.length }, 'wrote the mesh trust bundle');
  };

  let timer: NodeJS.Timeout | undefined;
  let stopped = false;
  let loop: Promise<void> = Promise.resolve();
  const ca = new SwappableCa(log, async () => {
    stopped = true;
    if (timer) clearTimeout(timer);
    await loop;
  });
  ca.replace(await loadCaMaterial(complete(dir, source), where));
  await writeBundle(ca.trustAnchorsPem());

  let seen = fingerprintOf(source);
  let reported = '';
  const reload = async (): Promise<void> => {
    try {
      const next = await readSource(dir);
      const fp = fingerprintOf(next);
      if (fp !== seen) {
        const material = await loadCaMaterial(complete(dir, next), where);
        seen = fp;
        reported = '';
        ca.replace(material);
      }
      await writeBundle(ca.trustAnchorsPem());
    } catch (err) {
      // Report a broken set once (not every few seconds), and keep signing with the CA in use.
      const msg = (err as Error).message;
      if (msg !== reported) log.error({ err }, 'the mesh CA files changed but cannot be used; still signing with the previous CA');
      reported = msg;
    }
  };
  const schedule = (): void => {
    if (stopped) return;
    timer = setTimeout(() => { loop = reload().then(schedule); }, opts.reloadIntervalMs ?? LOCAL_RELOAD_MS);
    timer.unref();
  };
  schedule();
  return ca;
}
