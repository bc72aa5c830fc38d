// The poll loop: ticks never overlap, a burst of kicks during a tick yields exactly one more tick, and
// the returned delay schedules the next one.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Poller } from './poller.js';

test('kicks during a running tick coalesce into one more tick; ticks never overlap; the delay schedules the next', async () => {
  let running = 0;
  let maxRunning = 0;
  let ticks = 0;
  let release: () => void = () => {};
  let gate = new Promise<void>((r) => { release = r; });
  const p = new Poller(async () => {
    running++;
    maxRunning = Math.max(maxRunning, running);
    ticks++;
    await gate;
    running--;
    return ticks >= 3 ? 3_600_000 : 10;
  });
  p.kick();
  await new Promise((r) => setImmediate(r));
  for (let i = 0; i < 50; i++) p.kick();
  release();
  gate = Promise.resolve();
  while (ticks < 3) await new Promise((r) => setTimeout(r, 5));
  await new Promise((r) => setTimeout(r, 50));
  await p.stop();
  assert.equal(maxRunning, 1);
  assert.equal(ticks, 3, 'first tick, one coalesced tick for the 50 kicks, one from the 10 ms delay; then an hour');
});
