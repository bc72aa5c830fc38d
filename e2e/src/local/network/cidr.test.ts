import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { allocate, bigToIp, canonicalIp, contains, gateway, ipToBig, overlaps, parseCidr, parseCidrList } from './cidr.js';

describe('CIDR arithmetic and allocation', () => {
  it('normalises the network address', () => {
    const c = parseCidr('10.250.3.77/24');
    assert.equal(c.text, '10.250.3.0/24');
    assert.equal(c.family, 4);
    assert.equal(bigToIp(c.network, 4), '10.250.3.0');
    assert.equal(ipToBig('255.255.255.255'), 0xffffffffn);
  });
  it('rejects malformed ranges', () => {
    assert.throws(() => parseCidr('10.0.0.0'), /CIDR/);
    assert.throws(() => parseCidr('10.0.0.300/24'), /IPv4 or IPv6/);
    assert.throws(() => parseCidr('10.0.0.0/31'), /prefix/);
    assert.throws(() => parseCidr('fd00::/127'), /IPv6 prefix/);
    assert.throws(() => parseCidr('fd00:::1/64'), /IPv4 or IPv6/);
  });
  it('the gateway is the first host address', () => {
    assert.equal(gateway(parseCidr('10.244.0.0/16')), '10.244.0.1');
    assert.equal(gateway(parseCidr('fd00:10:244::/64')), 'fd00:10:244::1');
  });
  it('allocates the lowest free address, skipping reserved and used ones', () => {
    const c = parseCidr('10.250.1.0/29');
    const reserved = new Set([gateway(c)]);
    assert.equal(allocate(c, new Set(), reserved), '10.250.1.2');
    assert.equal(allocate(c, new Set(['10.250.1.2', '10.250.1.3']), reserved), '10.250.1.4');
    assert.equal(allocate(c, new Set(['10.250.1.2']), reserved), '10.250.1.3');
    const v6 = parseCidr('fd00:10:252:7::/64');
    assert.equal(allocate(v6, new Set(['fd00:10:252:7::2']), new Set([gateway(v6)])), 'fd00:10:252:7::3');
  });
  it('never hands out the network or broadcast address, and reports exhaustion', () => {
    const c = parseCidr('10.250.1.0/30');
    assert.equal(allocate(c, new Set(['10.250.1.1'])), '10.250.1.2');
    assert.equal(allocate(c, new Set(['10.250.1.1', '10.250.1.2'])), undefined);
  });
  it('contains, for either family, and never across families', () => {
    const c = parseCidr('10.251.4.0/24');
    assert.equal(contains(c, '10.251.4.200'), true);
    assert.equal(contains(c, '10.251.5.1'), false);
    const v6 = parseCidr('fd00:10:96::/108');
    assert.equal(contains(v6, 'fd00:10:96::f:ffff'), true);
    assert.equal(contains(v6, 'fd00:10:96::10:0'), false);
    assert.equal(contains(v6, '10.251.4.1'), false);
    assert.equal(contains(c, 'fd00::1'), false);
  });
  it('writes IPv6 the way ip(8) and the Kubernetes API do (RFC 5952)', () => {
    assert.equal(parseCidr('FD00:0010:0244:0000:0000:0000:0000:0000/64').text, 'fd00:10:244::/64');
    assert.equal(canonicalIp('fd00:0:0:1:0:0:0:5'), 'fd00:0:0:1::5', 'the longest zero run is compressed');
    assert.equal(canonicalIp('fd00:0:1:0:1:0:0:0'), 'fd00:0:1:0:1::');
    assert.equal(canonicalIp('1:0:0:2:0:0:3:4'), '1::2:0:0:3:4', 'the first of equal runs');
    assert.equal(canonicalIp('fd00:1:2:3:4:5:6:7'), 'fd00:1:2:3:4:5:6:7');
    assert.equal(canonicalIp('::ffff:10.0.0.1'), '::ffff:a00:1');
    assert.equal(canonicalIp('::'), '::');
  });
  it('parses comma lists and tells overlapping ranges of one family', () => {
    assert.deepEqual(parseCidrList('10.244.0.0/16, fd00:10:244::/64').map((c) => c.text), ['10.244.0.0/16', 'fd00:10:244::/64']);
    assert.equal(overlaps(parseCidr('10.0.0.0/16'), parseCidr('10.0.128.0/24')), true);
    assert.equal(overlaps(parseCidr('fd00:10::/32'), parseCidr('fd00:10:96::/108')), true);
    assert.equal(overlaps(parseCidr('fd00:10:244::/64'), parseCidr('fd00:10:96::/108')), false);
    assert.equal(overlaps(parseCidr('10.0.0.0/8'), parseCidr('fd00::/8')), false);
  });
});
