import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { names, parseConfig } from './config.js';
import { ConfigError } from './errors.js';

describe('configuration', () => {
  it('defaults match the contract', () => {
    const c = parseConfig({}, {});
    assert.equal(c.stateDir, '/run/skein-local');
    assert.equal(c.bridge, 'skein0');
    assert.equal(c.podCidr.text, '10.244.0.0/16');
    assert.equal(c.serviceCidr.text, '10.96.0.0/16');
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
