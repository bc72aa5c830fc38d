import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { parseRunConfig, parseWaitConfig, DEFAULT_OPAQUE_PORTS } from './index.js';
import { parseDuration } from './values.js';
import { ConfigError } from '../errors.js';

describe('run config', () => {
  it('defaults follow DESIGN.md and docs/contracts.md', () => {
    const c = parseRunConfig([], {});
    assert.deepEqual(c.ports, { outbound: 15001, inbound: 15006, admin: 15000, health: 15020 });
    assert.equal(c.adminAddress, '127.0.0.1');
    assert.equal(c.healthAddress, '0.0.0.0');
    assert.equal(c.bindAddress, '::', 'dual-stack capture listeners: ip6tables REDIRECT needs an IPv6 listener');
    assert.equal(c.detectTimeoutMs, 1000);
    assert.equal(c.drainTimeoutMs, 30_000);
    assert.deepEqual([...c.opaquePorts].sort((a, b) => a - b), [...DEFAULT_OPAQUE_PORTS].sort((a, b) => a - b));
  });

  it('reads the injector args and downward-API env', () => {
    const c = parseRunConfig(['--opaque-ports', '8081, 9000-9002', '--detect-timeout', '1m30s', '--drain-timeout', '500ms', '--log-level', 'debug'],
      { POD_IP: '10.244.0.7', POD_NAME: 'web-0', SKEIN_ORIGINAL_PROBES: '{"app":{"liveness":{"tcpSocket":{"port":8080}}}}' });
    assert.ok(c.opaquePorts.has(8081) && c.opaquePorts.has(9001) && c.opaquePorts.has(3306));
    assert.equal(c.detectTimeoutMs, 90_000);
    assert.equal(c.drainTimeoutMs, 500);
    assert.equal(c.healthAddress, '10.244.0.7');
    assert.equal(c.pod.name, 'web-0');
    assert.equal(c.probes.get('app')?.get('liveness')?.action.type, 'tcpSocket');
  });

  it('errors name the bad flag', () => {
    const cases: Array<[string[], Record<string, string>, string]> = [
      [['--detect-timeout', '10'], {}, '--detect-timeout'],
      [['--opaque-ports', '80,http'], {}, '--opaque-ports'],
      [['--log-level', 'loud'], {}, '--log-level'],
      [['--nope'], {}, '--nope'],
      [['--inbound-port', '70000'], {}, '--inbound-port'],
      [[], { SKEIN_ORIGINAL_PROBES: '{not json' }, 'SKEIN_ORIGINAL_PROBES'],
      [[], { SKEIN_ORIGINAL_PROBES: '{"a":{"liveness":{"httpGet":{"port":"http"}}}}' }, 'SKEIN_ORIGINAL_PROBES'],
      [[], { SKEIN_DP_ORIG_DST_OVERRIDE: 'example.com:80' }, 'SKEIN_DP_ORIG_DST_OVERRIDE'],
    ];
    for (const [argv, env, flag] of cases) {
      assert.throws(() => parseRunConfig(argv, env), (err: unknown) => err instanceof ConfigError && err.flag === flag && err.message.includes(flag), flag);
    }
  });

  it('a probe container named __proto__ stays data', () => {
    const c = parseRunConfig([], { SKEIN_ORIGINAL_PROBES: '{"__proto__":{"liveness":{"tcpSocket":{"port":1}}}}' });
    assert.equal(c.probes.get('__proto__')?.get('liveness')?.action.type, 'tcpSocket');
    assert.equal(({} as Record<string, unknown>)['liveness'], undefined);
  });

  it('durations', () => {
    assert.equal(parseDuration('--x', '120s'), 120_000);
    assert.equal(parseDuration('--x', '1h'), 3_600_000);
    assert.equal(parseDuration('--x', '0'), 0);
    assert.throws(() => parseDuration('--x', '1s2'), ConfigError);
    assert.throws(() => parseDuration('--x', ''), ConfigError);
  });

  it('wait flags', () => {
    assert.deepEqual(parseWaitConfig(['--timeout', '120s']), { timeoutMs: 120_000, adminPort: 15000, intervalMs: 50 });
    assert.throws(() => parseWaitConfig(['--timeout']), (e: unknown) => e instanceof ConfigError && e.flag === '--timeout');
  });
});
