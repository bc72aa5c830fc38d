// `skein-dp init` through the real binary (dataplane/dist/main.js), as the init container runs it.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { after, describe, it } from 'node:test';
import { testImage } from '../image/testing/installed.js';
import { TestNetns } from './testing/netns.js';

const MAIN = fileURLToPath(new URL('../main.js', import.meta.url));
const GOLDEN_DIR = new URL('../../testdata/init/', import.meta.url);
const CONTRACT = ['--proxy-uid', '5678', '--proxy-gid', '5678', '--outbound-port', '15001', '--inbound-port', '15006',
  '--exclude-inbound-ports', '15000,15020'];

/** Runs skein-dp; as another user (a prefix with setpriv) from the installed image, which that user can read. */
async function skeinDp(prefix: string[], args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const main = prefix.includes('setpriv') ? (await testImage()).main : MAIN;
  const argv = [...prefix, process.execPath, main, ...args];
  return new Promise((resolve) => {
    execFile(argv[0] as string, argv.slice(1), { timeout: 30_000 }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === 'number' ? err.code : 1) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}

describe('skein-dp init (the binary)', () => {
  const namespaces: TestNetns[] = [];
  after(async () => {
    for (const ns of namespaces) await ns.destroy();
  });

  it('--help prints every flag of the contract and exits 0', async () => {
    const { code, stdout } = await skeinDp([], ['init', '--help']);
    assert.equal(code, 0);
    for (const flag of ['--proxy-uid', '--proxy-gid', '--outbound-port', '--inbound-port', '--exclude-inbound-ports',
      '--exclude-outbound-ports', '--exclude-outbound-cidrs', '--ipv6', '--dry-run']) assert.ok(stdout.includes(flag), flag);
  });

  it('--dry-run prints the golden rules and exits 0', async () => {
    const { code, stdout } = await skeinDp([], ['init', ...CONTRACT, '--ipv6', 'off', '--dry-run']);
    assert.equal(code, 0);
    assert.equal(stdout, readFileSync(new URL('defaults.golden', GOLDEN_DIR), 'utf8'));
  });

  it('applies the rules in a pod namespace, twice without duplicates', async () => {
    const ns = await TestNetns.create();
    namespaces.push(ns);
    for (let i = 0; i < 2; i++) {
      const { code, stdout, stderr } = await skeinDp(ns.prefix(), ['init', ...CONTRACT, '--ipv6', 'off']);
      assert.equal(code, 0, stdout + stderr);
    }
    const saved = await ns.sh('iptables-save -t nat');
    assert.equal(saved.split('\n').filter((l) => l === '-A OUTPUT -p tcp -j SKEIN_OUTPUT').length, 1);
    assert.equal(saved.split('\n').filter((l) => l === '-A PREROUTING -p tcp -j SKEIN_INBOUND').length, 1);
    assert.equal(saved.split('\n').filter((l) => l === '-A SKEIN_REDIRECT -p tcp -j REDIRECT --to-ports 15001').length, 1);
  });

  it('exits 1 with the NET_ADMIN message when run without the capability', async () => {
    const ns = await TestNetns.create();
    namespaces.push(ns);
    const { code, stdout, stderr } = await skeinDp(ns.prefix(65534), ['init', ...CONTRACT, '--ipv6', 'off']);
    assert.equal(code, 1);
    assert.match(stdout + stderr, /needs NET_ADMIN and NET_RAW/);
  });

  it('exits 2 naming the bad flag', async () => {
    const { code, stdout, stderr } = await skeinDp([], ['init', '--exclude-outbound-ports', '80,99999', '--dry-run']);
    assert.equal(code, 2);
    assert.match(stdout + stderr, /--exclude-outbound-ports: \\"99999\\" is not a TCP port/);
  });
});
