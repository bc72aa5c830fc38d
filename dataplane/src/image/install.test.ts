// The dataplane image folder: what it holds, that it is read-only and world-readable, and that the
// proxy's user runs skein-dp from it when it cannot read the checkout (a clone in a 0700 folder).
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { chmod, cp, lstat, mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { ImageBuildError } from '../errors.js';
import { productionClosure } from './closure.js';
import { DATAPLANE_DIR, firstUntraversable, installDataplaneImage, type InstalledImage } from './install.js';

const run = promisify(execFile);
const asProxy = (argv: string[]): Promise<{ stdout: string }> =>
  run('setpriv', ['--reuid=5678', '--regid=5678', '--clear-groups', ...argv], { cwd: '/' });

async function walk(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdir(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    out.push(p);
    if (e.isDirectory()) out.push(...await walk(p));
  }
  return out;
}

describe('dataplane image', () => {
  let dir: string;
  let image: InstalledImage;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'skein-image-test-'));
    await chmod(dir, 0o755);
    image = await installDataplaneImage(join(dir, 'image'));
  });
  after(async () => { if (dir) await rm(dir, { recursive: true, force: true }); });

  it('holds dist without tests, the addon and the production dependencies only', async () => {
    const files = (await walk(image.root)).map((p) => relative(image.root, p));
    assert.ok(files.includes('dataplane/dist/main.js'));
    assert.ok(files.includes('dataplane/build/Release/orig_dst.node'));
    assert.ok(files.includes('node_modules/pino/package.json'));
    const dist = files.filter((f) => f.startsWith('dataplane/dist/'));
    assert.deepEqual(dist.filter((f) => /\.test\.js$|\/testing(\/|$)|\.d\.ts$|tsbuildinfo/.test(f)), []);
    // ws is a devDependency of the dataplane: not in the image.
    assert.equal(files.some((f) => f.startsWith('node_modules/ws/')), false);
  });

  it('is read-only and world-readable', async () => {
    for (const p of [image.root, ...await walk(image.root)]) {
      const st = await lstat(p);
      if (st.isSymbolicLink()) continue;
      const mode = st.mode & 0o777;
      assert.equal(mode & 0o222, 0, `${p} is writable (0${mode.toString(8)})`);
      assert.equal(mode & 0o004, 0o004, `${p} is not world-readable`);
      if (st.isDirectory()) assert.equal(mode & 0o001, 0o001, `${p} cannot be entered by others`);
    }
  });

  it('runs as UID 5678 when the checkout is unreadable to it, the addon included', async () => {
    // A copy of this dist in a 0700 folder: UID 5678 cannot load it, but the image built from the
    // real checkout still runs, which is what a clone in /root needs.
    const locked = join(dir, 'locked');
    await mkdir(locked, { mode: 0o700 });
    await cp(join(DATAPLANE_DIR, 'dist', 'main.js'), join(locked, 'main.js'));
    await assert.rejects(asProxy([process.execPath, join(locked, 'main.js'), '--help']), /MODULE_NOT_FOUND|EACCES/, 'what a sidecar run from the checkout hits');
    assert.match((await asProxy([process.execPath, image.main, '--help'])).stdout, /usage: skein-dp/);
    const addon = join(image.root, 'dataplane', 'dist', 'transport', 'orig-dst.js');
    const { stdout } = await asProxy([process.execPath, '--input-type=module', '-e',
      `const m = await import(${JSON.stringify(addon)}); m.loadOrigDstAddon(); console.log('loaded');`]);
    assert.equal(stdout.trim(), 'loaded');
  });

  it('names the first folder others cannot traverse', async () => {
    const locked = join(dir, 'closed', 'inner');
    await mkdir(locked, { recursive: true });
    await chmod(join(dir, 'closed'), 0o700);
    assert.deepEqual(await firstUntraversable(locked), { dir: join(dir, 'closed'), mode: 0o700 });
    assert.equal(await firstUntraversable(image.root), undefined);
  });

  it('refuses a dependency that is not installed, naming it and the fix', async () => {
    const pkg = join(dir, 'pkg');
    await mkdir(pkg);
    await writeFile(join(pkg, 'package.json'), JSON.stringify({ name: 'p', dependencies: { 'no-such-package-xyz': '1' } }));
    assert.throws(() => productionClosure(pkg, dir),
      (e: Error) => e instanceof ImageBuildError && /no-such-package-xyz/.test(e.message) && /npm ci/.test(e.message));
  });
});
