import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { parseConfig } from '../config.js';
import { ConfigError } from '../errors.js';
import { checkInstance, recordInstance } from './instance.js';

describe('instance record of a state dir', () => {
  let dir = '';
  after(async () => { if (dir) await rm(dir, { recursive: true, force: true }); });

  it('accepts the options it was started with, and anything when nothing is recorded', async () => {
    dir = await mkdtemp(join(tmpdir(), 'skl-instance-'));
    const file = join(dir, 'instance.json');
    const cfg = parseConfig({ 'state-dir': dir, bridge: 'sklt1', 'pod-cidr': '10.250.1.0/24', 'service-cidr': '10.251.1.0/24' });
    checkInstance(parseConfig({ 'state-dir': dir }), file);
    recordInstance(cfg, file);
    checkInstance(cfg, file);
  });

  it('refuses a command whose bridge or range differs (down would sweep the other instance), naming both', () => {
    const file = join(dir, 'instance.json');
    const forgotten = parseConfig({ 'state-dir': dir, 'pod-cidr': '10.250.1.0/24', 'service-cidr': '10.251.1.0/24' });
    assert.throws(() => checkInstance(forgotten, file),
      (e: Error) => e instanceof ConfigError && /bridge sklt1, pods 10\.250\.1\.0\/24.*not skein0, .*--bridge/.test(e.message));
    const otherRange = parseConfig({ 'state-dir': dir, bridge: 'sklt1', 'pod-cidr': '10.250.2.0/24', 'service-cidr': '10.251.1.0/24' });
    assert.throws(() => checkInstance(otherRange, file), ConfigError);
  });

  it('covers the IPv6 ranges too: another IPv6 range, or none, is another instance', () => {
    const file = join(dir, 'dual.json');
    const flags = { 'state-dir': dir, bridge: 'sklt2', 'pod-cidr': '10.250.2.0/24,fd00:10:250:2::/64', 'service-cidr': '10.251.2.0/24,fd00:10:251:2::/108' };
    recordInstance(parseConfig(flags), file);
    checkInstance(parseConfig(flags), file);
    assert.throws(() => checkInstance(parseConfig({ ...flags, 'pod-cidr': '10.250.2.0/24,fd00:10:250:3::/64' }), file),
      (e: Error) => e instanceof ConfigError && /pods 10\.250\.2\.0\/24,fd00:10:250:2::\/64/.test(e.message));
    assert.throws(() => checkInstance(parseConfig({ ...flags, 'pod-cidr': '10.250.2.0/24', 'service-cidr': '10.251.2.0/24' }), file), ConfigError);
  });
});
