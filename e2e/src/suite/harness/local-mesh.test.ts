// The suite's slot choice: a bridge or range left by a killed run must be skipped, or the next run's
// `up` collides with it (root; an empty bridge and a blackhole route stand in for the leftovers).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { after, describe, it } from 'node:test';
import { freeSlot, type SlotFamily } from './local-mesh.js';

// A family no instance uses, so the leftovers made here are the only ones it can see.
const FAMILY: SlotFamily = { bridgePrefix: 'sklq', podNet: '10.249', serviceNet: '10.248' };
const pid = process.pid;
const slot = (k: number): { bridge: string; n: number } => ({ bridge: `sklq${(pid + k) % 1000}`, n: ((pid + k) % 250) + 1 });
const ranges = (n: number): Record<string, string> => ({
  podCidr: `10.249.${n}.0/24`, serviceCidr: `10.248.${n}.0/24`, podCidr6: `fd00:10:249:${n.toString(16)}::/64`, serviceCidr6: `fd00:10:248:${n.toString(16)}::/108`,
});

function ip(...args: string[]): void {
  const r = spawnSync('ip', args, { encoding: 'utf8' });
  assert.equal(r.status, 0, `ip ${args.join(' ')}: ${r.stderr}`);
}

describe('freeSlot', () => {
  const cleanup: string[][] = [];
  after(() => {
    for (const args of cleanup.reverse()) spawnSync('ip', args, { stdio: 'ignore' });
  });

  it('takes the pid-derived slot when nothing holds it', () => {
    const s = slot(0);
    assert.deepEqual(freeSlot(FAMILY, pid), { bridge: s.bridge, ...ranges(s.n) });
  });

  it('skips a slot whose bridge a killed run left, then one whose range it left', () => {
    cleanup.push(['link', 'del', slot(0).bridge]);
    ip('link', 'add', slot(0).bridge, 'type', 'bridge');
    assert.equal(freeSlot(FAMILY, pid).bridge, slot(1).bridge);
    // The next slot's bridge is gone but its service range's blackhole route remains.
    cleanup.push(['route', 'del', 'blackhole', `10.248.${slot(1).n}.0/24`]);
    ip('route', 'add', 'blackhole', `10.248.${slot(1).n}.0/24`, 'metric', '4095');
    const s = slot(2);
    assert.deepEqual(freeSlot(FAMILY, pid), { bridge: s.bridge, ...ranges(s.n) });
  });

  it('skips a slot whose IPv6 range a killed run left', () => {
    const s = slot(2);
    const v6 = ranges(s.n).serviceCidr6!;
    cleanup.push(['-6', 'route', 'del', 'blackhole', v6]);
    ip('-6', 'route', 'add', 'blackhole', v6, 'metric', '4095');
    assert.deepEqual(freeSlot(FAMILY, pid), { bridge: slot(3).bridge, ...ranges(slot(3).n) });
  });
});
