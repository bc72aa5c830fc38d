// "Pulls" the skein/dataplane image as a kubelet would: installs this checkout's dataplane build
// (dist, native addon, production node_modules) into IMAGES_ROOT/<instance>/dataplane (paths.ts),
// read-only and world-readable, so that containers of that image run from there as their own user
// wherever the checkout lives. `down` removes it (removeImages), also after a crash: the folder is
// found from the state dir's path alone.
import { readdirSync, rmdirSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { dirname } from 'node:path';
import { firstUntraversable, installDataplaneImage } from '@skein/dataplane/image';
import { LocalError } from '../errors.js';
import type { Logger } from '../log.js';
import { IMAGES_ROOT, type StatePaths } from '../paths.js';

export async function pullDataplaneImage(paths: StatePaths, log: Logger): Promise<void> {
  const started = Date.now();
  const image = await installDataplaneImage(paths.dataplaneImage);
  const blocked = await firstUntraversable(image.root);
  if (blocked) {
    throw new LocalError('E_IMAGE_UNREACHABLE', `the dataplane image in ${image.root} cannot be reached by the sidecar's user (UID 5678): ` +
      `${blocked.dir} has mode 0${blocked.mode.toString(8)}; let others traverse it (chmod o+x ${blocked.dir})`);
  }
  log.info({ image: `skein/dataplane:${image.version}`, path: image.root, ms: Date.now() - started }, 'dataplane image installed');
}

/** Removes this instance's images, then IMAGES_ROOT and its parent while no other instance uses them. */
export async function removeImages(paths: StatePaths): Promise<void> {
  await rm(paths.imagesDir, { recursive: true, force: true });
  for (const dir of [IMAGES_ROOT, dirname(IMAGES_ROOT)]) {
    try {
      if (readdirSync(dir).length > 0) return;
      rmdirSync(dir);
    } catch { return; /* gone, or another instance is creating its folder right now */ }
  }
}
