// Permissions of the state directory. Its root is 0711: other users may pass through it (the sidecar,
// UID 5678, runs the dataplane image installed in <state>/images) but not list it; everything that
// holds Secrets, tokens, keys or logs is root-only (0700 folders, 0600 files). The root's parents must
// be traversable too, or no container user could reach the image: that is checked here, with the fix.
import { chmodSync, closeSync, mkdirSync, openSync } from 'node:fs';
import { firstUntraversable } from '@skein/dataplane/image';
import { LocalError } from '../errors.js';
import { privateDirs, type StatePaths } from '../paths.js';

export async function prepareStateDir(paths: StatePaths): Promise<void> {
  mkdirSync(paths.root, { recursive: true, mode: 0o711 });
  chmodSync(paths.root, 0o711);
  for (const dir of privateDirs(paths)) {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    chmodSync(dir, 0o700); // also when an older run made it with the umask's mode
  }
  for (const file of [paths.daemonLog, paths.journal]) {
    closeSync(openSync(file, 'a', 0o600));
    chmodSync(file, 0o600);
  }
  const blocked = await firstUntraversable(paths.root);
  if (blocked) {
    throw new LocalError('E_STATE_DIR_UNREACHABLE',
      `state dir ${paths.root}: ${blocked.dir} has mode 0${blocked.mode.toString(8)}, so the users that containers run as ` +
      '(the sidecar is UID 5678) cannot reach the dataplane image under it; pick a --state-dir (SKEIN_LOCAL_STATE_DIR) ' +
      'whose parent folders others may traverse (the default /run/skein-local, or /var/lib/skein-local)');
  }
}
