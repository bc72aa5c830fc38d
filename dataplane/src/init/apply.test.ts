// The apply step against real iptables in network namespaces made for the test (reliability I1, I5).
import assert from 'node:assert/strict';
import { mkdtemp, rm, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { parseInitFlags } from './config.js';
import { IptablesMissingError } from './errors.js';
import { runInit } from './index.js';
import { hasGlobalIpv6 } from './ipv6.js';
import { renderRules } from './rules.js';
import { spawnRunner } from './runner.js';
import { capturedLogger } from './testing/logs.js';
import { TestNetns } from './testing/netns.js';

const ARGS = ['--exclude-inbound-ports', '15000,15020,9090', '--exclude-outbound-ports', '5432',
  '--exclude-outbound-cidrs', '10.96.0.0/12,fd00:96::/64'];
const CHAINS = ['PREROUTING', 'OUTPUT', 'SKEIN_DROP_INVALID', 'SKEIN_INBOUND', 'SKEIN_IN_REDIRECT', 'SKEIN_OUTPUT', 'SKEIN_REDIRECT'];

/** `-A` lines of one table, grouped by chain in order (iptables-save's chain order is its own). */
function ruleLines(text: string, table: string): Record<string, string[]> {
  const section = text.split(/^\*/m).find((s) => s.startsWith(`${table}\n`)) ?? '';
  const lines = section.split('\n').filter((l) => l.startsWith('-A '));
  return Object.fromEntries(CHAINS.map((c) => [c, lines.filter((l) => l.startsWith(`-A ${c} `))]));
}

async function saved(ns: TestNetns, family: 4 | 6): Promise<string> {
  return ns.sh(family === 4 ? 'iptables-save' : 'ip6tables-save');
}

async function init(ns: TestNetns, argv: string[], uid?: number) {
  const { logger, lines } = capturedLogger();
  const code = await runInit(argv, logger, {
    runner: ns.runner(uid),
    detectIpv6: async () => hasGlobalIpv6(await ns.sh('cat /proc/net/if_inet6')),
  });
  const errors = lines.filter((l) => l.level === 50);
  return { code, errors };
}

describe('init applies the rendered rules (real iptables in a netns)', () => {
  const namespaces: TestNetns[] = [];
  const newNs = async () => {
    const ns = await TestNetns.create();
    namespaces.push(ns);
    return ns;
  };
  let tmp: string;
  before(async () => {
    tmp = await mkdtemp(join(tmpdir(), 'sk-ut-init-'));
  });
  after(async () => {
    for (const ns of namespaces) await ns.destroy();
    await rm(tmp, { recursive: true, force: true });
  });

  it('holds exactly the rendered rules for both families (--ipv6 on), and ::6 on lo', async () => {
    const ns = await newNs();
    const { code, errors } = await init(ns, [...ARGS, '--ipv6', 'on']);
    assert.deepEqual(errors, []);
    assert.equal(code, 0);
    const config = parseInitFlags({ 'exclude-inbound-ports': '15000,15020,9090', 'exclude-outbound-ports': '5432', 'exclude-outbound-cidrs': '10.96.0.0/12,fd00:96::/64' });
    for (const family of [4, 6] as const) {
      const rendered = renderRules(config, family);
      const live = await saved(ns, family);
      for (const table of ['nat', 'mangle']) {
        assert.deepEqual(ruleLines(live, table), ruleLines(rendered, table), `IPv${family} ${table}`);
      }
    }
    assert.match(await ns.sh('ip -6 addr show dev lo'), /inet6 ::6\/128/);
  });

  it('leaves one copy when run twice, removes duplicate jumps and stale rules, keeps foreign rules', async () => {
    const ns = await newNs();
    assert.equal((await init(ns, ARGS)).code, 0);
    const once = await saved(ns, 4);
    assert.equal((await init(ns, ARGS)).code, 0);
    assert.deepEqual(ruleLines(await saved(ns, 4), 'nat'), ruleLines(once, 'nat'));
    assert.deepEqual(ruleLines(await saved(ns, 4), 'mangle'), ruleLines(once, 'mangle'));

    // A jump added twice by something else, a stale rule in our chain, and a rule that is not ours.
    await ns.sh('iptables -t nat -A OUTPUT -p tcp -j SKEIN_OUTPUT && iptables -t nat -A OUTPUT -p tcp -j SKEIN_OUTPUT' +
      ' && iptables -t nat -I SKEIN_OUTPUT -d 192.0.2.1 -j RETURN && iptables -t nat -A OUTPUT -p udp --dport 53 -j ACCEPT');
    assert.equal((await init(ns, ARGS)).code, 0);
    const after3 = ruleLines(await saved(ns, 4), 'nat');
    assert.deepEqual(after3.SKEIN_OUTPUT, ruleLines(once, 'nat').SKEIN_OUTPUT);
    assert.deepEqual([...(after3.OUTPUT ?? [])].sort(), ['-A OUTPUT -p tcp -j SKEIN_OUTPUT', '-A OUTPUT -p udp -m udp --dport 53 -j ACCEPT']);
  });

  it('--ipv6 auto programs ip6tables only when the namespace has a global IPv6 address', async () => {
    const ns = await newNs();
    assert.equal((await init(ns, ARGS)).code, 0);
    assert.doesNotMatch(await saved(ns, 6), /SKEIN_/);
    assert.match(await saved(ns, 4), /-A OUTPUT -p tcp -j SKEIN_OUTPUT/);

    await ns.sh('ip link add sk-v0 type veth peer name sk-v1 && ip link set sk-v0 up && ip -6 addr add fd00:77::2/64 dev sk-v0 nodad');
    assert.equal((await init(ns, ARGS)).code, 0);
    assert.match(await saved(ns, 6), /-A OUTPUT -p tcp -j SKEIN_OUTPUT/);
    assert.match(await saved(ns, 6), /-A SKEIN_OUTPUT -d fd00:96::\/64 -j RETURN/);
    assert.doesNotMatch(await saved(ns, 6), /10\.96\.0\.0/);
  });

  it('fails with exit 1 and a NET_ADMIN message when not allowed to change rules', async () => {
    const ns = await newNs();
    const { code, errors } = await init(ns, ARGS, 65534);
    assert.equal(code, 1);
    assert.equal(errors.length, 1);
    assert.equal(errors[0]?.code, 'INIT_NO_NET_ADMIN');
    assert.match(String(errors[0]?.msg), /needs NET_ADMIN and NET_RAW/);
    assert.match(String(errors[0]?.msg), /Permission denied/);
    assert.doesNotMatch(await saved(ns, 4), /SKEIN_/);
  });

  it('fails with exit 1 naming the package when iptables-restore is missing', async () => {
    const ns = await newNs();
    await symlink('/usr/sbin/iptables-save', join(tmp, 'iptables-save'));
    const { logger, lines } = capturedLogger();
    const runner = spawnRunner({ prefix: ['ip', 'netns', 'exec', ns.name, '/usr/bin/env', `PATH=${tmp}`] });
    const code = await runInit(ARGS.concat('--ipv6', 'off'), logger, { runner });
    assert.equal(code, 1);
    const error = lines.find((l) => l.level === 50);
    assert.equal(error?.code, 'INIT_IPTABLES_MISSING');
    assert.equal(error?.msg, 'iptables-restore not found: install the iptables package (the dataplane image carries it)');
  });

  it('reports a missing tool when it is not on PATH at all (spawn ENOENT)', async () => {
    const runner = spawnRunner({ env: { PATH: tmp } });
    await assert.rejects(runner.run('ip6tables-restore', []), (err: unknown) =>
      err instanceof IptablesMissingError && err.message.startsWith('ip6tables-restore not found'));
  });

  it('exits 2 for bad flags and changes nothing', async () => {
    const ns = await newNs();
    const { code, errors } = await init(ns, ['--exclude-outbound-cidrs', '10.0.0.0/40']);
    assert.equal(code, 2);
    assert.match(String(errors[0]?.msg), /^--exclude-outbound-cidrs: /);
    assert.doesNotMatch(await saved(ns, 4), /SKEIN_/);
  });
});
