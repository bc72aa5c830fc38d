import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseCidr } from './cidr.js';
import { initArgvToRecord, parseInitFlags } from './config.js';
import { InitFlagError } from './errors.js';

const CONTRACT_ARGS = [
  '--proxy-uid', '5678', '--proxy-gid', '5678', '--outbound-port', '15001', '--inbound-port', '15006',
  '--exclude-inbound-ports', '15000,15020',
];

function flagError(flag: string, pattern: RegExp) {
  return (err: unknown): boolean => {
    assert.ok(err instanceof InitFlagError, `expected InitFlagError, got ${String(err)}`);
    assert.equal(err.flag, flag);
    assert.equal(err.code, 'INIT_BAD_FLAG');
    assert.match(err.message, new RegExp(`^--${flag}: `));
    assert.match(err.message, pattern);
    return true;
  };
}

describe('parseInitFlags', () => {
  it('parses the args the injector writes (docs/contracts.md)', () => {
    const config = parseInitFlags(initArgvToRecord(CONTRACT_ARGS));
    assert.deepEqual(config, {
      proxyUid: 5678, proxyGid: 5678, outboundPort: 15001, inboundPort: 15006,
      excludeInboundPorts: [15000, 15020], excludeOutboundPorts: [], excludeOutboundCidrs: [],
      ipv6: 'auto', dryRun: false,
    });
  });

  it('always excludes the admin and health ports inbound, sorted and deduplicated', () => {
    const config = parseInitFlags({ 'exclude-inbound-ports': ' 9090, 8080,,9090 ,' });
    assert.deepEqual(config.excludeInboundPorts, [8080, 9090, 15000, 15020]);
  });

  it('parses outbound ports, v4 and v6 CIDRs (normalised), --ipv6 and --dry-run', () => {
    const config = parseInitFlags(initArgvToRecord([
      '--exclude-outbound-ports', '5432,443,5432', '--exclude-outbound-cidrs', '10.96.7.1/16, fd00:10::7/64,169.254.169.254',
      '--ipv6', 'on', '--dry-run',
    ]));
    assert.deepEqual(config.excludeOutboundPorts, [443, 5432]);
    assert.deepEqual(config.excludeOutboundCidrs, [
      { family: 4, text: '10.96.0.0/16' }, { family: 6, text: 'fd00:10::/64' }, { family: 4, text: '169.254.169.254/32' },
    ]);
    assert.equal(config.ipv6, 'on');
    assert.equal(config.dryRun, true);
  });

  it('names the flag of a bad port', () => {
    assert.throws(() => parseInitFlags({ 'outbound-port': '70000' }), flagError('outbound-port', /"70000" is not a TCP port/));
    assert.throws(() => parseInitFlags({ 'inbound-port': '0' }), flagError('inbound-port', /1 to 65535/));
    assert.throws(() => parseInitFlags({ 'exclude-inbound-ports': '80,http' }), flagError('exclude-inbound-ports', /"http"/));
    assert.throws(() => parseInitFlags({ 'exclude-outbound-ports': '-1' }), flagError('exclude-outbound-ports', /"-1"/));
    assert.throws(() => parseInitFlags({ 'exclude-outbound-ports': '80-90' }), flagError('exclude-outbound-ports', /"80-90"/));
  });

  it('names the flag of a bad CIDR', () => {
    const flag = 'exclude-outbound-cidrs';
    assert.throws(() => parseInitFlags({ [flag]: '10.0.0.0/33' }), flagError(flag, /bad prefix length \(0-32/));
    assert.throws(() => parseInitFlags({ [flag]: 'fd00::/129' }), flagError(flag, /0-128 for IPv6/));
    assert.throws(() => parseInitFlags({ [flag]: '10.0.0/8' }), flagError(flag, /"10.0.0\/8" is not an IPv4 or IPv6/));
    assert.throws(() => parseInitFlags({ [flag]: 'example.com' }), flagError(flag, /not an IPv4 or IPv6/));
    assert.throws(() => parseInitFlags({ [flag]: '10.0.0.0/ 8' }), flagError(flag, /bad prefix/));
  });

  it('rejects uid 0, equal capture ports, a bad --ipv6, unknown flags and flags without value', () => {
    assert.throws(() => parseInitFlags({ 'proxy-uid': '0' }), flagError('proxy-uid', /must not be 0/));
    assert.throws(() => parseInitFlags({ 'proxy-gid': 'proxy' }), flagError('proxy-gid', /numeric/));
    assert.throws(() => parseInitFlags({ 'inbound-port': '15001' }), flagError('inbound-port', /must differ/));
    assert.throws(() => parseInitFlags({ ipv6: 'yes' }), flagError('ipv6', /auto, on, off/));
    assert.throws(() => initArgvToRecord(['--exclude-outbound-ips', '10.0.0.0/8']), flagError('exclude-outbound-ips', /Unknown option/));
    assert.throws(() => initArgvToRecord(['--outbound-port']), flagError('outbound-port', /argument missing/));
    assert.throws(() => initArgvToRecord(['extra']), (err: unknown) => err instanceof InitFlagError && /extra/.test(err.message));
  });
});

describe('parseCidr', () => {
  it('normalises host bits and compresses IPv6 as iptables-save prints it', () => {
    assert.deepEqual(parseCidr('192.168.1.77/24'), { family: 4, text: '192.168.1.0/24' });
    assert.deepEqual(parseCidr('0.0.0.0/0'), { family: 4, text: '0.0.0.0/0' });
    assert.deepEqual(parseCidr('2001:db8:0:0:1:0:0:1/128'), { family: 6, text: '2001:db8::1:0:0:1/128' });
    assert.deepEqual(parseCidr('2001:DB8::FFFF/32'), { family: 6, text: '2001:db8::/32' });
    assert.deepEqual(parseCidr('::ffff:10.1.2.3/120'), { family: 6, text: '::ffff:a01:200/120' });
    assert.deepEqual(parseCidr('::/0'), { family: 6, text: '::/0' });
    assert.deepEqual(parseCidr('fe80::1'), { family: 6, text: 'fe80::1/128' });
  });

  it('returns a reason for what is not a CIDR', () => {
    assert.equal(typeof parseCidr('fe80::1%eth0/64'), 'string');
    assert.equal(typeof parseCidr('1.2.3.4/-1'), 'string');
    assert.equal(typeof parseCidr(''), 'string');
  });
});
