// Where the checkout lives must not matter (a clone in /root is mode 0700): this checkout, copied
// (hard links) into a 0700 folder, runs its bins from the repository root, a meshed pod pair whose
// sidecars run as UID 5678 and whose server runs as UID 1000, and a dataplane test that runs the proxy
// as UID 5678. Before skein-local installed the dataplane image, the sidecars crash-looped with
// MODULE_NOT_FOUND from such a clone.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { INBOUND_HTTP_REQUESTS } from './harness/counters.js';
import { LocalMesh, SIDECAR, SUITE_SLOTS } from './harness/local-mesh.js';
import { namespace, pod, service, type K8sObject } from './harness/manifests.js';
import { PYTHON3, REPO_ROOT } from './harness/paths.js';
import { describeRun, run } from './harness/run.js';
import { sumOf } from './harness/stats.js';
import { teardownOnSignals } from './harness/suite.js';

const execFileP = promisify(execFile);
const NS = 'e2e-private';
const APP_UID = 1000;

/** What a clone holds after the README's first command: sources, the build, node_modules. */
const CHECKOUT = ['package.json', 'package-lock.json', 'tsconfig.base.json', 'node_modules', 'api', 'webhook', 'dataplane', 'e2e', 'manifests'];

function serverAsUser(files: string): K8sObject {
  const p = pod({ name: 'web', namespace: NS, containers: [{ name: 'web', command: [PYTHON3, '-m', 'http.server', '8080', '--bind', '0.0.0.0', '--directory', files], ports: [8080] }] });
  (p.spec as Record<string, unknown>).securityContext = { runAsUser: APP_UID, runAsGroup: APP_UID };
  return p;
}

describe('a checkout in a folder only root can enter (like /root)', () => {
  const privateDir = mkdtempSync(join(tmpdir(), 'skein-private-'));
  const clone = join(privateDir, 'skein');
  let mesh: LocalMesh;
  let imageDir = '';
  let release = (): void => undefined;

  before(async () => {
    assert.equal(statSync(privateDir).mode & 0o777, 0o700);
    await execFileP('mkdir', [clone]);
    await execFileP('cp', ['-al', ...CHECKOUT.map((f) => join(REPO_ROOT, f)), clone]);
    // The state dir under /run, as the default /run/skein-local: the injected skein-init mounts a
    // volume over /run, so an image kept under the state dir vanished from its view (the demo's pods
    // crash-looped with "can't cd to /run/skein-local/images/dataplane").
    mesh = new LocalMesh('private', SUITE_SLOTS, { repoRoot: clone, workRoot: '/run' });
    release = teardownOnSignals(mesh, 'private-clone');
  });

  after(async () => {
    release();
    if (mesh) {
      const problem = await mesh.destroy();
      if (problem) console.error(`private-clone: cleanup problem: ${problem}`);
    }
    rmSync(privateDir, { recursive: true, force: true });
  }, { timeout: 150_000 });

  it('runs the three bins with npx from the repository root', async () => {
    for (const [bin, usage] of [['skein-local', /Usage: skein-local/], ['skein-cp', /Usage: skein-cp/], ['skein-dp', /usage: skein-dp/]] as const) {
      const r = await run('npx', ['--no-install', bin, '--help'], { cwd: clone, timeoutMs: 30_000 });
      assert.equal(r.code, 0, describeRun(`npx ${bin} --help`, r));
      assert.match(r.stdout + r.stderr, usage);
    }
  });

  it('serves meshed pods whose sidecar runs as UID 5678 and whose app runs as UID 1000', async () => {
    await mesh.up();
    await mesh.apply([
      namespace(NS, true),
      serverAsUser(mesh.filesDir),
      service('web', NS, { app: 'web' }, [{ name: 'http', port: 80, targetPort: 8080 }]),
      pod({ name: 'client', namespace: NS, containers: [{ name: 'toolbox', command: ['sleep', 'infinity'] }] }),
    ]);
    try {
      await mesh.waitReady(NS, 'web');
      await mesh.waitReady(NS, 'client');
      const before = await mesh.stats(NS, 'web');
      const body = await mesh.execOk(NS, 'client', ['curl', '-sS', '--fail', '--max-time', '10', '-o', '/dev/null', '-w', '%{http_code}', `http://web.${NS}/`]);
      assert.equal(body, '200');
      const after = await mesh.stats(NS, 'web');
      assert.equal(sumOf(after, INBOUND_HTTP_REQUESTS) - sumOf(before, INBOUND_HTTP_REQUESTS), 1, 'the request went through the server sidecar');
    } catch (err) {
      console.error(await mesh.dump([NS]));
      throw err;
    }
    // The sidecar runs skein-dp from the installed image, as 5678, not from the checkout.
    const rec = JSON.parse(readFileSync(join(mesh.stateDir, 'runtime', `${NS}_web.json`), 'utf8')) as { containers: Record<string, { pid: number }> };
    const pid = rec.containers[SIDECAR]!.pid;
    const argv = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
    assert.match(argv[1] ?? '', /^\/var\/lib\/skein-local\/images\/[0-9a-f]{12}\/dataplane\/dataplane\/dist\/main\.js$/, argv.join(' '));
    assert.match(readFileSync(`/proc/${pid}/status`, 'utf8'), /^Uid:\t5678\t/m);
    imageDir = dirname(dirname(dirname(argv[1]!))); // the image root: <root>/dataplane/dist/main.js
  });

  it('lets other users read the dataplane image, not the state dir', async () => {
    const asProxy = (cmd: string[]): Promise<{ code: number | null }> => run('setpriv', ['--reuid=5678', '--regid=5678', '--clear-groups', ...cmd], { cwd: '/' });
    assert.equal((await asProxy(['cat', join(imageDir, 'dataplane', 'dist', 'main.js')])).code, 0);
    assert.equal(statSync(mesh.stateDir).mode & 0o777, 0o700);
    assert.notEqual((await asProxy(['ls', mesh.stateDir])).code, 0, 'UID 5678 can list the state dir');
  });

  it('removes the image on down', async () => {
    assert.ok(existsSync(imageDir));
    assert.equal(await mesh.cliOk(['down'], { timeoutMs: 120_000 }).then(() => existsSync(imageDir)), false);
  });

  it('passes a dataplane test that runs the proxy as UID 5678', async () => {
    // A runner of its own: under this one, NODE_TEST_CONTEXT would make the child report here instead.
    const env = { ...process.env };
    delete env.NODE_TEST_CONTEXT;
    const r = await run(process.execPath, ['--test', '--test-reporter=spec', join(clone, 'dataplane', 'dist', 'inbound', 'iptables.test.js')],
      { cwd: clone, env, timeoutMs: 120_000 });
    const what = describeRun('node --test dataplane/dist/inbound/iptables.test.js (from the private clone)', r);
    assert.equal(r.code, 0, what);
    assert.match(r.stdout, /^ℹ fail 0$/m, what);
    assert.ok(Number(/^ℹ pass (\d+)$/m.exec(r.stdout)?.[1] ?? 0) >= 5, what);
  });
});
