import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { names, parseConfig, podRanges, rangesText, serviceRanges } from './config.js';
import { ConfigError } from './errors.js';

describe('configuration', () => {
  it('defaults match the contract', () => {
    const c = parseConfig({}, {});
    assert.equal(c.stateDir, '/run/skein-local');
    assert.equal(c.bridge, 'skein0');
    assert.equal(c.podCidr.text, '10.244.0.0/16');
    assert.equal(c.serviceCidr.text, '10.96.0.0/16');
    assert.equal(c.podCidr6?.text, 'fd00:10:244::/64');
    assert.equal(c.serviceCidr6?.text, 'fd00:10:96::/108');
  });
  it('takes dual-stack ranges as Kubernetes does (a comma list, IPv4 first), or IPv4 only', () => {
    const dual = parseConfig({ 'pod-cidr': '10.250.9.0/24, fd00:10:250:9::/64', 'service-cidr': '10.251.9.0/24,fd00:10:251:9::/108' });
    assert.deepEqual(podRanges(dual).map((r) => r.text), ['10.250.9.0/24', 'fd00:10:250:9::/64']);
    assert.equal(rangesText(serviceRanges(dual)), '10.251.9.0/24,fd00:10:251:9::/108');
    const v4 = parseConfig({}, { SKEIN_LOCAL_POD_CIDR: '10.250.9.0/24', SKEIN_LOCAL_SERVICE_CIDR: '10.251.9.0/24' });
    assert.equal(v4.podCidr6, undefined);
    assert.equal(v4.serviceCidr6, undefined);
    const onlyPods = parseConfig({ 'pod-cidr': '10.250.9.0/24' });
    assert.equal(rangesText(serviceRanges(onlyPods)), '10.96.0.0/16', 'a range left at its default follows the other one');
  });
  it('refuses IPv6 on one side only, IPv6 first, two of a family, and too large an IPv6 service range', () => {
    assert.throws(() => parseConfig({ 'pod-cidr': '10.250.9.0/24', 'service-cidr': '10.96.0.0/16,fd00:10:96::/108' }),
      (e: Error) => e instanceof ConfigError && /--service-cidr has an IPv6 range but --pod-cidr has none/.test(e.message));
    assert.throws(() => parseConfig({ 'pod-cidr': 'fd00:10:250::/64,10.250.9.0/24' }), /IPv4 range, optionally followed by one IPv6/);
    assert.throws(() => parseConfig({ 'pod-cidr': '10.250.9.0/24,10.250.10.0/24' }), /IPv4 range, optionally followed by one IPv6/);
    assert.throws(() => parseConfig({ 'service-cidr': '10.96.0.0/16,fd00:10:96::/64' }), /at most 20 host bits/);
    assert.throws(() => parseConfig({ 'pod-cidr': '10.244.0.0/16,fd00:10::/32', 'service-cidr': '10.96.0.0/16,fd00:10:96::/108' }), /overlap/);
  });
  it('flags win over the environment', () => {
    const c = parseConfig({ bridge: 'sklt9' }, { SKEIN_LOCAL_BRIDGE: 'other', SKEIN_LOCAL_POD_CIDR: '10.250.9.0/24', SKEIN_LOCAL_STATE_DIR: '/tmp/x' });
    assert.equal(c.bridge, 'sklt9');
    assert.equal(c.podCidr.text, '10.250.9.0/24');
    assert.equal(c.stateDir, '/tmp/x');
  });
  it('errors name the flag', () => {
    assert.throws(() => parseConfig({ 'pod-cidr': '10.1.0.0' }), (e: Error) => e instanceof ConfigError && /^--pod-cidr "10\.1\.0\.0"/.test(e.message));
    assert.throws(() => parseConfig({ bridge: 'a-very-long-bridge-name' }), /--bridge/);
    assert.throws(() => parseConfig({ 'pod-cidr': '10.0.0.0/16', 'service-cidr': '10.0.128.0/24' }), /overlap/);
  });
  it('names host objects by instance so two instances never share a name', () => {
    const a = names(parseConfig({ bridge: 'skein0' }));
    const b = names(parseConfig({ bridge: 'sklt1' }));
    assert.equal(a.netnsPrefix, 'skl-skein0-');
    assert.equal(a.chainPrefix, 'SKL-skein0-');
    assert.notEqual(a.linkPrefix, b.linkPrefix);
    assert.equal(`${a.linkPrefix}12345678`.length, 15, 'veth names fit the 15-character limit');
  });
});
