// SKEIN_CP_* of `skein-dp run`: standalone without an address; with one, what the Certify and Watch calls
// need is required up front, with an error that names the variable and what it is for.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { parseRunConfig, splitHostPort } from './index.js';
import { ConfigError } from '../errors.js';

const MESHED = {
  SKEIN_CP_ADDRESS: 'skein-cp.skein-system.svc:15012',
  SKEIN_TOKEN_PATH: '/var/run/secrets/skein/token/token',
  SKEIN_CA_PATH: '/var/run/secrets/skein/ca/root-cert.pem',
  SKEIN_CP_CA_PATH: '/var/run/secrets/skein/ca/control-plane-ca.pem',
  POD_NAME: 'web-0', POD_NAMESPACE: 'shop',
};

describe('control plane config', () => {
  it('without SKEIN_CP_ADDRESS the sidecar is standalone and nothing else is required', () => {
    const c = parseRunConfig([], { SKEIN_TOKEN_PATH: '/t' });
    assert.deepEqual(c.controlPlane, { tokenPath: '/t' });
    assert.equal(c.certTtlSeconds, 0);
  });

  it('reads the address, the token, both CA paths and --cert-ttl', () => {
    const c = parseRunConfig(['--cert-ttl', '2m'], MESHED);
    assert.deepEqual(c.controlPlane, {
      address: 'skein-cp.skein-system.svc:15012', tokenPath: MESHED.SKEIN_TOKEN_PATH,
      caPath: MESHED.SKEIN_CA_PATH, cpCaPath: MESHED.SKEIN_CP_CA_PATH,
    });
    assert.equal(c.certTtlSeconds, 120);
    assert.equal(parseRunConfig(['--cert-ttl', '1500ms'], MESHED).certTtlSeconds, 2, 'rounded up to whole seconds');
  });

  it('with SKEIN_CP_ADDRESS, a missing token, CP CA, pod name or namespace is a ConfigError naming it', () => {
    for (const name of ['SKEIN_TOKEN_PATH', 'SKEIN_CP_CA_PATH', 'POD_NAME', 'POD_NAMESPACE'] as const) {
      for (const value of [undefined, '  ']) {
        const env = { ...MESHED, [name]: value };
        assert.throws(() => parseRunConfig([], env), (err: unknown) => err instanceof ConfigError && err.flag === name &&
          err.message.includes('required when SKEIN_CP_ADDRESS is set') && err.message.includes('standalone'), `${name}=${String(value)}`);
      }
    }
  });

  it('refuses an address that is not host:port and a --cert-ttl under a second', () => {
    for (const address of ['skein-cp', 'skein-cp:', 'skein-cp:0', 'skein-cp:99999', '::1:15012', 'http://skein-cp:15012', 'a b:1']) {
      assert.throws(() => parseRunConfig([], { ...MESHED, SKEIN_CP_ADDRESS: address }),
        (err: unknown) => err instanceof ConfigError && err.flag === 'SKEIN_CP_ADDRESS', address);
    }
    assert.throws(() => parseRunConfig(['--cert-ttl', '500ms'], MESHED), (err: unknown) => err instanceof ConfigError && err.flag === '--cert-ttl');
    assert.throws(() => parseRunConfig(['--cert-ttl', '10'], MESHED), (err: unknown) => err instanceof ConfigError && err.flag === '--cert-ttl');
  });

  it('splits host:port, IPv6 in brackets', () => {
    assert.deepEqual(splitHostPort('skein-cp.skein-system.svc:15012'), { host: 'skein-cp.skein-system.svc', port: 15012 });
    assert.deepEqual(splitHostPort('10.0.0.1:15012'), { host: '10.0.0.1', port: 15012 });
    assert.deepEqual(splitHostPort('[fd00::1]:15012'), { host: 'fd00::1', port: 15012 });
    assert.equal(splitHostPort('[fd00::1]'), undefined);
  });
});
