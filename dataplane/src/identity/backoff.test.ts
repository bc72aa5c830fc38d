import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Backoff } from './backoff.js';

describe('Backoff', () => {
  it('doubles from 0.5 s to 30 s, each delay between half and all of its step', () => {
    const low = new Backoff({ minMs: 500, maxMs: 30_000, random: () => 0 });
    const high = new Backoff({ minMs: 500, maxMs: 30_000, random: () => 1 });
    const steps = [500, 1000, 2000, 4000, 8000, 16_000, 30_000, 30_000];
    assert.deepEqual(steps.map(() => low.next()), steps.map((s) => s / 2));
    assert.deepEqual(steps.map(() => high.next()), steps);
  });

  it('starts over after reset, and never overflows after many failures', () => {
    const b = new Backoff({ minMs: 500, maxMs: 30_000, random: () => 1 });
    for (let i = 0; i < 2000; i++) b.next();
    assert.equal(b.next(), 30_000);
    b.reset();
    assert.equal(b.next(), 500);
  });
});
