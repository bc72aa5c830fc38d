// The state directory: root only (mode 0700), because it holds Secrets, tokens, the token-signing key
// and logs. Nothing a container's user must read lives in it: the dataplane image is installed under
// IMAGES_ROOT (paths.ts), and containers reach their volumes through bind mounts, which do not need
// the source's parents to be searchable.
import { chmodSync, mkdirSync } from 'node:fs';
import type { StatePaths } from '../paths.js';

export function prepareStateDir(paths: StatePaths): void {
  mkdirSync(paths.root, { recursive: true, mode: 0o700 });
  chmodSync(paths.root, 0o700); // also when an earlier version made it 0711
}
