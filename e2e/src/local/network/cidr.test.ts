import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { allocate, contains, gateway, intToIp, ipToInt, parseCidr } from './cidr.js';

describe('CIDR arithmetic and allocation', () => {
  it('normalises the network address', () => {
    const c = parseCidr('10.250.3.77/24');
    assert.equal(c.text, '10.250.3.0/24');
    assert.equal(intToIp(c.network), '10.250.3.0');
    assert.equal(ipToInt('255.255.255.255'), 0xffffffff);
  });
  it('rejects malformed ranges', () => {
    assert.throws(() => parseCidr('10.0.0.0'), /CIDR/);
    assert.throws(() => parseCidr('10.0.0.300/24'), /IPv4/);
    assert.throws(() => parseCidr('10.0.0.0/31'), /prefix/);
  });
  it('the gateway is the first host address', () => {
    assert.equal(gateway(parseCidr('10.244.0.0/16')), '10.244.0.1');
  });
  it('allocates the lowest free address, skipping reserved and used ones', () => {
    const c = parseCidr('10.250.1.0/29');
    const reserved = new Set([gateway(c)]);
    assert.equal(allocate(c, new Set(), reserved), '10.250.1.2');
    assert.equal(allocate(c, new Set(['10.250.1.2', '10.250.1.3']), reserved), '10.250.1.4');
    assert.equal(allocate(c, new Set(['10.250.1.2']), reserved), '10.250.1.3');
  });
  it('never hands out the network or broadcast address, and reports exhaustion', () => {
    const c = parseCidr('10.250.1.0/30');
    assert.equal(allocate(c, new Set(['10.250.1.1'])), '10.250.1.2');
    assert.equal(allocate(c, new Set(['10.250.1.1', '10.250.1.2'])), undefined);
  });
  it('contains', () => {
    const c = parseCidr('10.251.4.0/24');
    assert.equal(contains(c, '10.251.4.200'), true);
    assert.equal(contains(c, '10.251.5.1'), false);
  });
});
