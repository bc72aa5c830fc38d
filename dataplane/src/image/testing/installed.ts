// Test helper: this build installed as the dataplane image in a world-readable temp folder, once per
// test process, for tests that run skein-dp (or a test helper of dist/) as another user (the proxy's
// UID 5678, an app's UID 1000). Those users may not be able to read the checkout (a clone in /root is
// mode 0700), exactly as in skein-local, which runs the image from its state dir. Test code only.
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { installDataplaneImage, type InstalledImage } from '../install.js';

let installed: Promise<InstalledImage> | undefined;

/** The image (with dist's testing/ helpers); removed when the test process exits. */
export function testImage(): Promise<InstalledImage> {
  if (!installed) {
    const dir = mkdtempSync(join(tmpdir(), 'skein-dp-image-'));
    chmodSync(dir, 0o755); // mkdtemp makes it 0700
    process.once('exit', () => rmSync(dir, { recursive: true, force: true }));
    installed = installDataplaneImage(join(dir, 'image'), { testHelpers: true });
  }
  return installed;
}

/** A file of the installed dist/, e.g. `init/testing/capture-probe.js`. */
export async function imageDistFile(rel: string): Promise<string> {
  return join((await testImage()).root, 'dataplane', 'dist', rel);
}
