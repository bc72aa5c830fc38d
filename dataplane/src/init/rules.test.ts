// Golden files for `skein-dp init --dry-run` (dataplane/testdata/init/<case>.golden), one per option set
// the injector can produce (reliability I1). SKEIN_UPDATE_GOLDEN=1 rewrites them; review the diff.
import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { pino } from 'pino';
import { parseInitFlags } from './config.js';
import { runInit } from './index.js';
import { renderRules } from './rules.js';

const GOLDEN_DIR = new URL('../../testdata/init/', import.meta.url);
const CONTRACT = ['--proxy-uid', '5678', '--proxy-gid', '5678', '--outbound-port', '15001', '--inbound-port', '15006'];

const CASES: { name: string; argv: string[] }[] = [
  { name: 'defaults', argv: [...CONTRACT, '--exclude-inbound-ports', '15000,15020'] },
  { name: 'exclude-inbound-ports', argv: [...CONTRACT, '--exclude-inbound-ports', '8081,9090,15000,15020'] },
  { name: 'exclude-outbound-ports', argv: [...CONTRACT, '--exclude-inbound-ports', '15000,15020', '--exclude-outbound-ports', '3306,5432'] },
  {
    name: 'exclude-outbound-cidrs-v4-v6',
    argv: [...CONTRACT, '--exclude-inbound-ports', '15000,15020', '--exclude-outbound-cidrs', '169.254.169.254/32,10.96.0.0/12,fd00:10:96::/112', '--ipv6', 'on'],
  },
  { name: 'ipv6-on', argv: [...CONTRACT, '--exclude-inbound-ports', '15000,15020', '--ipv6', 'on'] },
  { name: 'no-flags', argv: [] },
];

async function dryRun(argv: string[]): Promise<{ code: number; out: string }> {
  let out = '';
  const code = await runInit([...argv, '--dry-run'], pino({ level: 'silent' }), {
    write: (t) => (out += t),
    detectIpv6: async () => false,
  });
  return { code, out };
}

describe('init --dry-run golden files', () => {
  for (const c of CASES) {
    it(c.name, async () => {
      const { code, out } = await dryRun(c.argv);
      assert.equal(code, 0);
      const file = new URL(`${c.name}.golden`, GOLDEN_DIR);
      if (process.env.SKEIN_UPDATE_GOLDEN === '1') writeFileSync(file, out);
      assert.ok(existsSync(file), `missing ${file.pathname}: run the test with SKEIN_UPDATE_GOLDEN=1 and review it`);
      assert.equal(out, readFileSync(file, 'utf8'));
    });
  }
});

describe('renderRules', () => {
  const config = parseInitFlags({
    'exclude-outbound-cidrs': '10.0.0.0/8,fd00::/8',
    'exclude-inbound-ports': '8081',
  });

  it('puts a CIDR only into its own family’s table', () => {
    const v4 = renderRules(config, 4);
    const v6 = renderRules(config, 6);
    assert.match(v4, /^-A SKEIN_OUTPUT -d 10\.0\.0\.0\/8 -j RETURN$/m);
    assert.doesNotMatch(v4, /fd00::/);
    assert.match(v6, /^-A SKEIN_OUTPUT -d fd00::\/8 -j RETURN$/m);
    assert.doesNotMatch(v6, /10\.0\.0\.0/);
    assert.match(v6, /^-A SKEIN_OUTPUT -d ::1\/128 -j RETURN$/m);
    assert.match(v6, /^-A SKEIN_OUTPUT -s ::6\/128 -o lo -j RETURN$/m);
  });

  it('returns the inbound port, admin, health and excluded ports before redirecting inbound', () => {
    const lines = renderRules(config, 4).split('\n').filter((l) => l.startsWith('-A SKEIN_INBOUND'));
    assert.deepEqual(lines, [
      '-A SKEIN_INBOUND -p tcp -m tcp --dport 15006 -j RETURN',
      '-A SKEIN_INBOUND -p tcp -m tcp --dport 8081 -j RETURN',
      '-A SKEIN_INBOUND -p tcp -m tcp --dport 15000 -j RETURN',
      '-A SKEIN_INBOUND -p tcp -m tcp --dport 15020 -j RETURN',
      '-A SKEIN_INBOUND -p tcp -j SKEIN_IN_REDIRECT',
    ]);
  });

  it('lets the proxy uid and gid out before anything can redirect them to 15001', () => {
    const out = renderRules(parseInitFlags({ 'proxy-uid': '1337', 'proxy-gid': '1338' }), 4).split('\n');
    const uid = out.indexOf('-A SKEIN_OUTPUT -m owner --uid-owner 1337 -j RETURN');
    const gid = out.indexOf('-A SKEIN_OUTPUT -m owner --gid-owner 1338 -j RETURN');
    const redirect = out.indexOf('-A SKEIN_OUTPUT -j SKEIN_REDIRECT');
    assert.ok(uid > 0 && gid > uid && redirect > gid);
  });
});
