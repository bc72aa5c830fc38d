import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { holdSysctl, releaseSysctl, type SysctlRegistry } from './host-sysctl.js';

describe('host-wide sysctls shared by instances', () => {
  const root = mkdtempSync(join(tmpdir(), 'skl-sysctl-'));
  after(() => rmSync(root, { recursive: true, force: true }));
  const reg: SysctlRegistry = { dir: join(root, 'registry'), procSys: join(root, 'proc') };
  const key = 'net/ipv6/conf/all/forwarding';
  const value = (): string => readFileSync(join(reg.procSys, key), 'utf8').trim();
  const stateDir = (name: string): string => {
    const d = join(root, name);
    mkdirSync(d, { recursive: true });
    writeFileSync(join(d, 'instance.json'), '{}\n');
    return d;
  };
  mkdirSync(join(reg.procSys, 'net/ipv6/conf/all'), { recursive: true });

  it('restores the value from before the first instance only when the last one lets go', () => {
    writeFileSync(join(reg.procSys, key), '0\n');
    const [a, b] = [stateDir('a'), stateDir('b')];
    holdSysctl(key, '1', a, reg);
    assert.equal(value(), '1');
    holdSysctl(key, '1', b, reg);
    releaseSysctl(key, a, reg);
    assert.equal(value(), '1', 'b still needs it');
    releaseSysctl(key, b, reg);
    assert.equal(value(), '0', 'restored by the last');
    assert.equal(existsSync(join(reg.dir, 'net.ipv6.conf.all.forwarding.json')), false);
    releaseSysctl(key, b, reg);
    assert.equal(value(), '0', 'a second release is a no-op');
    // Every down releases (whether or not it held anything): no empty registry folder is left behind.
    assert.equal(existsSync(reg.dir), false);
  });

  it('a holder whose state dir no longer records an instance does not keep it set forever', () => {
    writeFileSync(join(reg.procSys, key), '0\n');
    const [a, gone] = [stateDir('c'), stateDir('gone')];
    holdSysctl(key, '1', gone, reg);
    holdSysctl(key, '1', a, reg);
    rmSync(gone, { recursive: true });
    releaseSysctl(key, a, reg);
    assert.equal(value(), '0');
  });

  it('keeps a host value that was already on', () => {
    writeFileSync(join(reg.procSys, key), '1\n');
    const a = stateDir('d');
    holdSysctl(key, '1', a, reg);
    releaseSysctl(key, a, reg);
    assert.equal(value(), '1');
  });
});
