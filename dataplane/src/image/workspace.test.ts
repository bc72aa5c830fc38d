// The image holds @skein/api (the generated gRPC client the mesh client loads) as the Dockerfile does:
// api/package.json + api/dist without tests or declarations, and node_modules/@skein/api → ../../api.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { chmod, lstat, mkdtemp, readdir, readlink, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { installDataplaneImage, type InstalledImage } from './install.js';

const run = promisify(execFile);

describe('dataplane image: the @skein/api workspace', () => {
  let dir: string;
  let image: InstalledImage;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'skein-image-api-test-'));
    await chmod(dir, 0o755);
    image = await installDataplaneImage(join(dir, 'image'));
  });
  after(async () => { if (dir) await rm(dir, { recursive: true, force: true }); });

  it('holds api/dist without tests or declarations, linked from node_modules like npm does', async () => {
    const link = join(image.root, 'node_modules', '@skein', 'api');
    assert.ok((await lstat(link)).isSymbolicLink());
    assert.equal(await readlink(link), join('..', '..', 'api'));
    const dist = await readdir(join(image.root, 'api', 'dist'), { recursive: true });
    assert.ok(dist.includes('index.js'));
    assert.deepEqual(dist.filter((f) => /\.test\.js$|\.d\.ts$|tsbuildinfo/.test(f)), []);
    assert.equal((await readdir(join(image.root, 'node_modules', '@skein'))).join(','), 'api', 'no other workspace');
  });

  it('loads the mesh client (grpc-js and the generated code) as UID 5678', async () => {
    const meshClient = join(image.root, 'dataplane', 'dist', 'discovery', 'mesh-client.js');
    const { stdout } = await run('setpriv', ['--reuid=5678', '--regid=5678', '--clear-groups', process.execPath, '--input-type=module', '-e',
      `const m = await import(${JSON.stringify(meshClient)}); const api = await import('@skein/api'); console.log(typeof m.startMeshClientNow, typeof api.IdentityClient);`],
      { cwd: join(image.root, 'dataplane') });
    assert.equal(stdout.trim(), 'function function');
  });
});
