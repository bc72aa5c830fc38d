import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ManifestError } from '../errors.js';
import { containerProcess, isDataplaneImage, mapSkeinDp } from './command.js';
import { enterArgv, launchArgv, resolveUser } from './launch.js';

const ctx = { repoRoot: '/repo', nodePath: '/usr/bin/node', dataplaneImage: '/state/images/dataplane' };

describe('image mapping', () => {
  it('recognises the dataplane image with any tag or registry', () => {
    for (const i of ['skein/dataplane', 'skein/dataplane:0.1.0', 'ghcr.io/x/skein/dataplane:dev', 'skein/dataplane@sha256:abc']) assert.equal(isDataplaneImage(i), true, i);
    for (const i of ['skein/dataplane-debug:1', 'busybox', 'other/dataplane:1', undefined]) assert.equal(isDataplaneImage(i), false, String(i));
  });
  it('runs the dataplane entrypoint with args (the injector gives only args)', () => {
    const p = containerProcess('web', { name: 'skein-proxy', image: 'skein/dataplane:0.1.0', args: ['run', '--opaque-ports', '$(PORTS)'] }, new Map([['PORTS', '5432']]), ctx);
    assert.deepEqual(p.argv, ['/usr/bin/node', '/state/images/dataplane/dataplane/dist/main.js', 'run', '--opaque-ports', '5432']);
    assert.equal(p.cwd, '/state/images/dataplane', 'the image folder is its WORKDIR, not the checkout');
  });
  it('maps skein-dp as argv[0] anywhere (postStart hooks)', () => {
    assert.deepEqual(mapSkeinDp(['skein-dp', 'wait', '--timeout', '120s'], ctx), ['/usr/bin/node', '/state/images/dataplane/dataplane/dist/main.js', 'wait', '--timeout', '120s']);
    assert.deepEqual(mapSkeinDp(['sh', '-c', 'skein-dp'], ctx), ['sh', '-c', 'skein-dp']);
  });
  it('runs command + args of other images from the host, expanding $(VAR)', () => {
    const p = containerProcess('web', { name: 'web', image: 'python:3', command: ['python3', '-m', 'http.server'], args: ['$(PORT)'] }, new Map([['PORT', '8080']]), ctx);
    assert.deepEqual(p.argv, ['python3', '-m', 'http.server', '8080']);
  });
  it('resolves a relative program and workingDir against the repository root', () => {
    const p = containerProcess('x', { name: 'x', image: 'any', command: ['./bin/tool'], workingDir: 'e2e' }, new Map(), ctx);
    assert.equal(p.cwd, '/repo/e2e');
    assert.equal(p.argv[0], '/repo/e2e/bin/tool');
  });
  it('refuses an image without a command, naming the pod and container', () => {
    assert.throws(() => containerProcess('web-1', { name: 'app', image: 'nginx:1.27' }, new Map(), ctx),
      (e: Error) => e instanceof ManifestError && /pod web-1, container app/.test(e.message) && /give the container a `command`/.test(e.message));
  });
});

describe('launch argv', () => {
  it('enters the netns, sets the hostname, mounts, then drops to the user', () => {
    const argv = launchArgv({ netns: 'skl-x-1', hostname: 'web-1', cwd: '/repo', user: { uid: 5678, gid: 5678 }, argv: ['node', "it's"],
      mounts: [{ source: '/s/tok', target: '/var/run/secrets/skein/token', readOnly: true }] });
    assert.deepEqual(argv.slice(0, 9), ['ip', 'netns', 'exec', 'skl-x-1', 'unshare', '--uts', '--', '/bin/sh', '-c']);
    const script = argv[9]!;
    assert.match(script, /mount --bind '\/s\/tok' '\/var\/run\/secrets\/skein\/token'\nmount -o remount,bind,ro '\/var\/run\/secrets\/skein\/token'/);
    const nested = launchArgv({ netns: 'n', hostname: 'h', cwd: '/', user: { uid: 0, gid: 0 }, argv: ['true'], mounts: [
      { source: '/v/b', target: '/run/secrets/b', readOnly: false }, { source: '/v/a', target: '/run', readOnly: false }] })[9]!;
    assert.ok(nested.indexOf("mount --bind '/v/a' '/run'") < nested.indexOf("mount --bind '/v/b' '/run/secrets/b'"), 'parents are mounted first');
    assert.match(nested, /\[ -e '\/run\/secrets\/b' \] \|\| mkdir -p '\/run\/secrets\/b'/);
    assert.match(script, /exec 'setpriv' '--reuid=5678' '--regid=5678' '--clear-groups' '--' 'node' 'it'\\''s'$/);
  });
  it('root needs no setpriv; exec enters the container by pid', () => {
    assert.doesNotMatch(launchArgv({ netns: 'n', hostname: 'h', cwd: '/', user: { uid: 0, gid: 0 }, argv: ['true'], mounts: [] }).join(' '), /setpriv/);
    assert.deepEqual(enterArgv(42, '/w', { uid: 0, gid: 0 }, ['ls']).slice(0, 7), ['nsenter', '-t', '42', '-m', '-n', '-u', '--']);
  });
  it('container securityContext wins over the pod one', () => {
    assert.deepEqual(resolveUser({ runAsUser: 1000, runAsGroup: 1000 }, { runAsUser: 5678 }), { uid: 5678, gid: 1000 });
    assert.deepEqual(resolveUser(undefined, undefined), { uid: 0, gid: 0 });
  });
});
