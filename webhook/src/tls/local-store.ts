// Local mode keeps the webhook CA in <state-dir>/ca/ (directory 0700, key 0600) and reuses it across
// restarts, so the webhook-ca.pem skein-local trusts stays valid. The serving certificate is issued
// fresh at each start (it is cheap) and never written to disk.
import { readFile, chmod, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { X509Certificate } from 'node:crypto';
import { CA_DIR, ensureDir, writeFileAtomic } from '../config/state-dir.js';
import { StateDirError } from '../errors.js';
import type { Logger } from '../log.js';
import { createCa, type KeyPairPem } from './issue.js';
import { certWindow, checkCaPair } from './material.js';
import { assessRotation } from './rotation.js';

export const CA_CERT_FILE = 'ca.pem';
export const CA_KEY_FILE = 'ca-key.pem';

export async function loadOrCreateCa(stateDir: string, logger: Logger): Promise<KeyPairPem> {
  const dir = join(stateDir, CA_DIR);
  await ensureDir(dir, 0o700);
  await chmod(dir, 0o700);
  const existing = await readCa(dir);
  if (existing) {
    await tightenKeyMode(join(dir, CA_KEY_FILE), logger);
    const verdict = assessRotation(certWindow(existing.certPem), new Date());
    if (verdict.rotate) {
      logger.warn({ reason: verdict.reason }, 'the local webhook CA is past 80% of its lifetime; CA rotation is not implemented: remove the state directory to start over');
    }
    logger.info({ fingerprint: new X509Certificate(existing.certPem).fingerprint256 }, 'reusing webhook CA from state directory');
    return existing;
  }
  const ca = createCa();
  // Key first: a cert without its key would be unusable at the next start.
  await writeFileAtomic(join(dir, CA_KEY_FILE), ca.keyPem, 0o600);
  await writeFileAtomic(join(dir, CA_CERT_FILE), ca.certPem, 0o644);
  logger.info({ fingerprint: new X509Certificate(ca.certPem).fingerprint256 }, 'created webhook CA in state directory');
  return ca;
}

async function readCa(dir: string): Promise<KeyPairPem | undefined> {
  let certPem: string;
  let keyPem: string;
  try {
    [certPem, keyPem] = await Promise.all([
      readFile(join(dir, CA_CERT_FILE), 'utf8'),
      readFile(join(dir, CA_KEY_FILE), 'utf8'),
    ]);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new StateDirError(`cannot read the CA in ${dir}: ${(err as Error).message}`, { cause: err });
  }
  try {
    checkCaPair({ certPem, keyPem });
  } catch (err) {
    throw new StateDirError(`the CA in ${dir} is unusable (${(err as Error).message}); remove ${dir} to create a new one`, { cause: err });
  }
  return { certPem, keyPem };
}

async function tightenKeyMode(path: string, logger: Logger): Promise<void> {
  const st = await stat(path);
  if ((st.mode & 0o077) !== 0) {
    await chmod(path, 0o600);
    logger.warn({ path, mode: (st.mode & 0o777).toString(8) }, 'CA key was readable by others; set it to 0600');
  }
}
