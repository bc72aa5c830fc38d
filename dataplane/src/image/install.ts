// Installs this dataplane build as an "image": a read-only, world-readable folder with the same layout
// as /app in manifests/docker/dataplane.Dockerfile (package.json, the production node_modules,
// dataplane/{package.json,bin,dist,build/Release/orig_dst.node}). skein-local "pulls" skein/dataplane by
// installing it under its state dir, as a kubelet unpacks an image, so that the sidecar (UID 5678) can
// run it wherever the checkout lives: a clone in /root (mode 0700) is not readable by that user.
// Tests that run skein-dp as another user install it the same way (testing/image.ts).
import { chmod, cp, lstat, mkdir, readdir, rename, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { readFileSync, realpathSync } from 'node:fs';
import { basename, dirname, join, parse, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ImageBuildError } from '../errors.js';
import { productionClosure } from './closure.js';

/** The dataplane workspace of this build (dist/image/install.js → the folder with package.json). */
export const DATAPLANE_DIR = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const ADDON = join('build', 'Release', 'orig_dst.node');

export interface InstalledImage {
  /** The image folder. */
  readonly root: string;
  /** `node <main>` is the image's entrypoint, skein-dp. */
  readonly main: string;
  readonly version: string;
}

export interface InstallOptions {
  /** Keep dist's `testing/` helpers (for tests that run them as another user); never in skein-local. */
  readonly testHelpers?: boolean;
}

/** What of dist/ goes into the image: no tests, no declarations, no build info. */
function distFilter(testHelpers: boolean): (src: string) => boolean {
  return (src) => {
    const name = basename(src);
    if (name.endsWith('.tsbuildinfo') || /\.d\.ts(\.map)?$/.test(name) || /\.test\.js(\.map)?$/.test(name)) return false;
    return testHelpers || !src.split(sep).includes('testing');
  };
}

/** A package's own files: its nested node_modules are copied as closure entries of their own. */
function packageFilter(pkgDir: string): (src: string) => boolean {
  return (src) => src === pkgDir || !src.slice(pkgDir.length).split(sep).includes('node_modules');
}

async function chmodTree(path: string): Promise<void> {
  const st = await lstat(path);
  if (st.isSymbolicLink()) return;
  if (st.isDirectory()) {
    for (const entry of await readdir(path)) await chmodTree(join(path, entry));
    await chmod(path, 0o555);
  } else {
    await chmod(path, st.mode & 0o111 ? 0o555 : 0o444);
  }
}

/**
 * Builds the image into `dest` (replacing what is there) and returns where its entrypoint is. The
 * folder is built beside `dest` and renamed into place, so a reader never sees half an image.
 */
export async function installDataplaneImage(dest: string, opts: InstallOptions = {}): Promise<InstalledImage> {
  const root = dirname(DATAPLANE_DIR); // the checkout: its node_modules holds the hoisted packages
  const pkg = JSON.parse(readFileSync(join(DATAPLANE_DIR, 'package.json'), 'utf8')) as { version: string };
  for (const need of ['dist/main.js', ADDON]) {
    try {
      await stat(join(DATAPLANE_DIR, need));
    } catch (err) {
      throw new ImageBuildError(`the dataplane build has no ${need} (${DATAPLANE_DIR}): run \`bash scripts/bootstrap.sh\``, { cause: err });
    }
  }
  const work = `${dest}.partial-${process.pid}`;
  const image: InstalledImage = { root: dest, main: join(dest, 'dataplane', 'dist', 'main.js'), version: pkg.version };
  try {
    await rm(work, { recursive: true, force: true });
    await buildInto(work, root, pkg.version, opts);
    await rm(dest, { recursive: true, force: true });
    await mkdir(dirname(dest), { recursive: true });
    await rename(work, dest);
  } finally {
    await rm(work, { recursive: true, force: true }); // gone after the rename; what a failure left otherwise
  }
  return image;
}

async function buildInto(work: string, root: string, version: string, opts: InstallOptions): Promise<void> {
  await mkdir(join(work, 'dataplane', dirname(ADDON)), { recursive: true });
  await cp(join(root, 'package.json'), join(work, 'package.json'));
  await cp(join(DATAPLANE_DIR, 'package.json'), join(work, 'dataplane', 'package.json'));
  await cp(join(DATAPLANE_DIR, 'bin'), join(work, 'dataplane', 'bin'), { recursive: true });
  await cp(join(DATAPLANE_DIR, 'dist'), join(work, 'dataplane', 'dist'), { recursive: true, filter: distFilter(opts.testHelpers ?? false) });
  await cp(join(DATAPLANE_DIR, ADDON), join(work, 'dataplane', ADDON));
  for (const rel of productionClosure(DATAPLANE_DIR, root)) {
    const src = join(root, rel);
    if ((await lstat(src)).isSymbolicLink()) {
      await copyWorkspace(src, root, work, rel);
      continue;
    }
    await cp(src, join(work, rel), { recursive: true, filter: packageFilter(src) });
  }
  await writeFile(join(work, 'image.json'), `${JSON.stringify({ image: `skein/dataplane:${version}`, source: DATAPLANE_DIR }, null, 2)}\n`);
  await chmodTree(work);
  await chmod(work, 0o555);
}

/**
 * A workspace dependency (node_modules/@skein/api → ../../api): its package.json and dist/ (no tests, no
 * declarations) at the same relative path, and the node_modules entry as the same relative symlink.
 */
async function copyWorkspace(link: string, root: string, work: string, rel: string): Promise<void> {
  const wsRel = relative(root, realpathSync(link));
  await mkdir(join(work, wsRel), { recursive: true });
  await cp(join(root, wsRel, 'package.json'), join(work, wsRel, 'package.json'));
  await cp(join(root, wsRel, 'dist'), join(work, wsRel, 'dist'), { recursive: true, filter: distFilter(false) });
  await mkdir(dirname(join(work, rel)), { recursive: true });
  await symlink(relative(dirname(join(work, rel)), join(work, wsRel)), join(work, rel));
}

/**
 * The first folder on the way to `path` (itself included) that a user other than its owner cannot
 * enter (no execute bit for "others"), or undefined when every one can be traversed. Root-owned
 * folders are what skein-local creates, so "others" is what UID 5678 is to them.
 */
export async function firstUntraversable(path: string): Promise<{ dir: string; mode: number } | undefined> {
  const abs = resolve(path);
  const { root } = parse(abs);
  let dir = root;
  for (const part of abs.slice(root.length).split(sep).filter(Boolean)) {
    dir = join(dir, part);
    const mode = (await stat(dir)).mode & 0o7777;
    if (!(mode & 0o001)) return { dir, mode };
  }
  return undefined;
}
