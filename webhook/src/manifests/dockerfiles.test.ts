// The two Dockerfiles, read without a Docker engine (none on CI): every file
// they COPY from the build context exists and is not excluded by .dockerignore,
// the entrypoints are the contract names and start the workspace's bin, and the
// images run as non-root.
import { describe as suite, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { MANIFESTS_DIR, REPO_ROOT } from './paths.js';

interface Instruction { readonly op: string; readonly args: string }

/** Instructions of a Dockerfile: comments dropped, continuation lines joined. */
function parseDockerfile(text: string): Instruction[] {
  const lines = text.split('\n').filter((l) => !/^\s*#/.test(l));
  const joined = lines.join('\n').replace(/\\\n/g, ' ');
  return joined.split('\n').map((l) => l.trim()).filter(Boolean).map((l) => {
    const m = /^(\S+)\s+(.*)$/.exec(l);
    assert.ok(m, `instruction: ${l}`);
    return { op: (m[1] ?? '').toUpperCase(), args: m[2] ?? '' };
  });
}

/** The subset of .dockerignore semantics the file uses: "a/b" prefixes, "**\/name" and "**\/*.ext" anywhere. */
function ignoredBy(patterns: string[], path: string): string | undefined {
  const segments = path.replace(/\/$/, '').split('/');
  return patterns.find((p) => {
    if (p.startsWith('**/')) {
      const rest = p.slice(3);
      return rest.startsWith('*.') ? segments.some((s) => s.endsWith(rest.slice(1))) : segments.includes(rest);
    }
    return path === p || path.startsWith(`${p}/`);
  });
}

const DOCKERIGNORE = readFileSync(join(REPO_ROOT, '.dockerignore'), 'utf8').split('\n')
  .map((l) => l.trim()).filter((l) => l && !l.startsWith('#'));

const IMAGES = [
  { file: 'control-plane.Dockerfile', bin: 'skein-cp', workspace: 'webhook', user: '65532:65532' },
  { file: 'dataplane.Dockerfile', bin: 'skein-dp', workspace: 'dataplane', user: '5678:5678' },
] as const;

for (const image of IMAGES) {
  suite(image.file, () => {
    const instructions = parseDockerfile(readFileSync(join(MANIFESTS_DIR, 'docker', image.file), 'utf8'));
    const froms = instructions.filter((i) => i.op === 'FROM').map((i) => i.args);
    const lastStage = instructions.slice(instructions.map((i) => i.op).lastIndexOf('FROM'));

    it('builds in a node:20-bookworm-slim stage and runs on the same base', () => {
      const arg = instructions.find((i) => i.op === 'ARG' && i.args.startsWith('NODE_IMAGE='));
      assert.equal(arg?.args, 'NODE_IMAGE=node:20-bookworm-slim');
      assert.deepEqual(froms, ['${NODE_IMAGE} AS build', '${NODE_IMAGE}']);
      const build = instructions.filter((i) => i.op === 'RUN').map((i) => i.args).join('\n');
      for (const step of ['npm ci', 'npx tsc -b', 'npm prune --omit=dev']) assert.ok(build.includes(step), step);
    });

    it('copies only paths that exist in the build context and are not ignored', () => {
      const copies = instructions.filter((i) => i.op === 'COPY' && !i.args.startsWith('--from'));
      assert.ok(copies.length > 0);
      for (const c of copies) {
        const parts = c.args.split(/\s+/);
        for (const src of parts.slice(0, -1)) {
          assert.ok(existsSync(join(REPO_ROOT, src)), `${image.file}: COPY ${src} exists`);
          assert.equal(ignoredBy(DOCKERIGNORE, src.replace(/\/$/, '')), undefined, `${image.file}: ${src} is not in .dockerignore`);
        }
      }
    });

    it(`enters through ${image.bin}, a wrapper that starts the workspace's bin`, () => {
      const entry = lastStage.filter((i) => i.op === 'ENTRYPOINT');
      assert.deepEqual(entry.map((i) => JSON.parse(i.args) as unknown), [[image.bin]]);
      assert.ok(!lastStage.some((i) => i.op === 'CMD'), 'no CMD: the pod spec gives the args');
      const pkg = JSON.parse(readFileSync(join(REPO_ROOT, image.workspace, 'package.json'), 'utf8')) as { bin: Record<string, string> };
      const binPath = pkg.bin[image.bin];
      assert.ok(binPath, `${image.workspace}/package.json declares bin ${image.bin}`);
      const target = `/app/${image.workspace}/${binPath.replace(/^\.\//, '')}`;
      const wrapper = lastStage.find((i) => i.op === 'RUN' && i.args.includes(`/usr/local/bin/${image.bin}`));
      assert.ok(wrapper, `a RUN writes /usr/local/bin/${image.bin}`);
      assert.ok(wrapper.args.includes(`exec node ${target} "$@"`), `wrapper runs ${target}`);
      assert.ok(wrapper.args.includes(`chmod 0755 /usr/local/bin/${image.bin}`));
    });

    it('runs as a numeric non-root user', () => {
      const users = lastStage.filter((i) => i.op === 'USER').map((i) => i.args);
      assert.deepEqual(users, [image.user]);
    });
  });
}

suite('dataplane.Dockerfile tools', () => {
  const instructions = parseDockerfile(readFileSync(join(MANIFESTS_DIR, 'docker', 'dataplane.Dockerfile'), 'utf8'));
  const fromIndexes = instructions.flatMap((i, n) => (i.op === 'FROM' ? [n] : []));
  const runsOf = (from: number, to?: number): string => instructions.slice(from, to)
    .filter((i) => i.op === 'RUN').map((i) => i.args).join('\n');

  it('builds the native addon with python3, make and g++ and ships orig_dst.node beside dist', () => {
    const build = runsOf(fromIndexes[0] ?? 0, fromIndexes[1]);
    assert.match(build, /apt-get install[^\n]*python3 make g\+\+/);
    assert.match(build, /npm run build:native/);
    assert.match(build, /test -f dataplane\/build\/Release\/orig_dst\.node/);
    assert.ok(existsSync(join(REPO_ROOT, 'dataplane', 'binding.gyp')), 'the addon the image builds exists');
  });

  it('carries iptables and iproute2 at run time, and no compiler', () => {
    const runtime = runsOf(fromIndexes[1] ?? 0);
    assert.match(runtime, /apt-get install[^\n]*iptables iproute2/);
    assert.doesNotMatch(runtime, /g\+\+|\bmake\b|python3/);
  });
});
