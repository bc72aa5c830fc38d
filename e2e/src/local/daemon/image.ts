// "Pulls" the skein/dataplane image as a kubelet would: installs this checkout's dataplane build
// (dist, native addon, production node_modules) into <state>/images/dataplane, read-only and
// world-readable, so that containers of that image run from there as their own user wherever the
// checkout lives. Journaled, so `down` removes it, also after a crash.
import { installDataplaneImage } from '@skein/dataplane/image';
import type { Logger } from '../log.js';
import type { StatePaths } from '../paths.js';
import type { Journal } from '../state/journal.js';

export async function pullDataplaneImage(paths: StatePaths, journal: Journal, log: Logger): Promise<void> {
  const started = Date.now();
  journal.record({ t: 'dir', path: paths.dataplaneImage });
  const image = await installDataplaneImage(paths.dataplaneImage);
  log.info({ image: `skein/dataplane:${image.version}`, path: image.root, ms: Date.now() - started }, 'dataplane image installed');
}
