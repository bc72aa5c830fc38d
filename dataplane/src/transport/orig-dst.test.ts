// originalDestination() against real iptables REDIRECT rules in a network namespace made for the test.
import assert from 'node:assert/strict';
import { copyFile, mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { createServer, connect } from 'node:net';
import type { ChildProcess } from 'node:child_process';
import { after, before, describe, it } from 'node:test';
import { TestNetns } from '../init/testing/netns.js';
import { probeConnect, startProbe, stopProbe } from '../init/testing/probe.js';
import { OrigDstLookupError, loadOrigDstAddon, originalDestination } from './orig-dst.js';
import type * as OrigDst from './orig-dst.js';

describe('originalDestination (SO_ORIGINAL_DST addon)', () => {
  let ns: TestNetns;
  let probe: ChildProcess | undefined;

  before(async () => {
    ns = await TestNetns.create();
    // A "remote" address on lo, and REDIRECT rules like the sidecar's: v4 :80 → 17001, v6 :443 → 17001.
    await ns.sh(
      'ip addr add 10.201.0.1/32 dev lo && ip -6 addr add fd00:201::1/128 dev lo nodad && ' +
        'iptables -t nat -A OUTPUT -p tcp -d 10.201.0.1 --dport 80 -j REDIRECT --to-ports 17001 && ' +
        'ip6tables -t nat -A OUTPUT -p tcp -d fd00:201::1 --dport 443 -j REDIRECT --to-ports 17001',
    );
    probe = await startProbe(ns, 'orig', [17001]);
  });

  after(async () => {
    stopProbe(probe);
    await ns?.destroy();
  });

  it('loads the addon (built by npm run build:native)', () => {
    assert.doesNotThrow(() => loadOrigDstAddon());
  });

  it('returns the pre-REDIRECT IPv4 destination, also on a dual-stack [::] listener (v4-mapped)', async () => {
    const answer = await probeConnect(ns, { host: '10.201.0.1', port: 80 });
    assert.equal(answer.listener, 17001);
    assert.deepEqual(answer.orig, { address: '10.201.0.1', port: 80, family: 4 });
  });

  it('returns the pre-REDIRECT IPv6 destination', async () => {
    const answer = await probeConnect(ns, { host: 'fd00:201::1', port: 443 });
    assert.equal(answer.listener, 17001);
    assert.deepEqual(answer.orig, { address: 'fd00:201::1', port: 443, family: 6 });
  });

  it('returns the socket’s own address for a connection that was not redirected', async () => {
    const answer = await probeConnect(ns, { host: '10.201.0.1', port: 17001 });
    assert.deepEqual(answer.orig, { address: '10.201.0.1', port: 17001, family: 4 });
  });

  it('names the fix (npm run build:native) when the addon is not built', async () => {
    // This very module, copied where no build/Release/orig_dst.node is next to it.
    const dir = await mkdtemp(join(tmpdir(), 'sk-ut-init-origdst-'));
    try {
      await mkdir(join(dir, 'dist', 'transport'), { recursive: true });
      const copy = join(dir, 'dist', 'transport', 'orig-dst.js');
      await copyFile(fileURLToPath(new URL('./orig-dst.js', import.meta.url)), copy);
      await copyFile(fileURLToPath(new URL('../errors.js', import.meta.url)), join(dir, 'dist', 'errors.js'));
      const mod = (await import(pathToFileURL(copy).href)) as typeof OrigDst;
      assert.throws(() => mod.loadOrigDstAddon(), (err: unknown) => {
        assert.ok(err instanceof Error);
        assert.equal((err as { code?: string }).code, 'ORIG_DST_UNAVAILABLE');
        assert.match(err.message, /npm run build:native/);
        return true;
      });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('throws OrigDstLookupError (EBADF) for a socket that has no descriptor any more', async () => {
    const server = createServer((s) => s.destroy());
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const port = (server.address() as { port: number }).port;
      const client = connect(port, '127.0.0.1');
      await new Promise((resolve) => client.once('connect', resolve));
      client.destroy();
      assert.throws(() => originalDestination(client), (err: unknown) => {
        assert.ok(err instanceof OrigDstLookupError);
        assert.equal(err.errno, 'EBADF');
        return true;
      });
    } finally {
      server.close();
    }
  });
});
