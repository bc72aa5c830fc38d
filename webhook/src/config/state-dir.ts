// The local-mode state directory: what skein-cp writes there and how. Files are written atomically
// (temporary file in the same directory, fsync, rename) so skein-local never reads half a cp.json,
// and with explicit modes so secrets are never group/world readable, whatever the umask.
import { randomBytes } from 'node:crypto';
import { chmod, mkdir, open, rename, rm, stat } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { StateDirError } from '../errors.js';

export const CP_JSON = 'cp.json';
export const WEBHOOK_CA_PEM = 'webhook-ca.pem';
export const CA_DIR = 'ca';

/** Contents of DIR/cp.json (docs/contracts.md, "Control plane in local mode"). */
export interface CpState {
  readonly pid: number;
  readonly webhookPort: number;
  readonly grpcPort: number;
  readonly healthPort: number;
  readonly bindAddress: string;
}

/** Creates `dir` (0700) if missing; fails if it exists but is not a writable directory. */
export async function ensureDir(dir: string, mode = 0o700): Promise<void> {
  try {
    await mkdir(dir, { recursive: true, mode });
    const st = await stat(dir);
    if (!st.isDirectory()) throw new StateDirError(`${dir} exists and is not a directory; pass a directory to --state-dir or remove the file`);
  } catch (err) {
    if (err instanceof StateDirError) throw err;
    throw new StateDirError(`cannot create state directory ${dir}: ${(err as Error).message}; pick a writable --state-dir`, { cause: err });
  }
}

export async function writeFileAtomic(path: string, data: string, mode: number): Promise<void> {
  const tmp = join(dirname(path), `.${randomBytes(6).toString('hex')}.tmp`);
  try {
    // 'wx' + mode: the temporary file is born with its final mode; no window where a key is 0644.
    const fh = await open(tmp, 'wx', mode);
    try {
      await fh.writeFile(data, 'utf8');
      await fh.sync();
    } finally {
      await fh.close();
    }
    await chmod(tmp, mode); // the umask may have narrowed the mode given to open()
    await rename(tmp, path);
  } catch (err) {
    await rm(tmp, { force: true });
    throw new StateDirError(`cannot write ${path}: ${(err as Error).message}; check that --state-dir is writable by this user and the disk is not full`, { cause: err });
  }
  await syncDir(dirname(path));
}

async function syncDir(dir: string): Promise<void> {
  // Makes the rename durable; some filesystems refuse fsync on a directory, which is harmless here.
  try {
    const fh = await open(dir, 'r');
    try { await fh.sync(); } finally { await fh.close(); }
  } catch { /* best effort */ }
}

export async function writeCpState(stateDir: string, state: CpState): Promise<void> {
  await writeFileAtomic(join(stateDir, CP_JSON), `${JSON.stringify(state, null, 2)}\n`, 0o644);
}

export async function writeWebhookCa(stateDir: string, caCertPem: string): Promise<void> {
  await writeFileAtomic(join(stateDir, WEBHOOK_CA_PEM), caCertPem, 0o644);
}

/** Removes cp.json on clean shutdown so skein-local does not talk to a dead process. */
export async function removeCpState(stateDir: string): Promise<void> {
  await rm(join(stateDir, CP_JSON), { force: true });
}
