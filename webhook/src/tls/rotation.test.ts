import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MAX_TIMER_MS, assessRotation, nextCheckDelayMs, rotationTime } from './rotation.js';

const DAY = 24 * 3600 * 1000;
const from = new Date('2026-01-01T00:00:00Z');
const year = { validFrom: from, validTo: new Date(from.getTime() + 365 * DAY) };
const at = (days: number): Date => new Date(from.getTime() + days * DAY);

test('rotation is due at 80% of the lifetime, not before', () => {
  assert.equal(rotationTime(year).getTime(), at(292).getTime());
  assert.deepEqual(assessRotation(year, at(291.9)), { rotate: false, rotateAt: at(292) });
  assert.deepEqual(assessRotation(year, at(292)), { rotate: true, reason: 'due' });
  assert.deepEqual(assessRotation(year, at(364)), { rotate: true, reason: 'due' });
});

test('expired, future and empty windows rotate with their reason', () => {
  assert.deepEqual(assessRotation(year, at(365)), { rotate: true, reason: 'expired' });
  assert.deepEqual(assessRotation(year, at(-1)), { rotate: true, reason: 'not-yet-valid' });
  assert.deepEqual(assessRotation({ validFrom: from, validTo: from }, from), { rotate: true, reason: 'empty-window' });
});

test('next check delay is capped below the setTimeout overflow', () => {
  // Regression guard: setTimeout(fn, 292 days) fires at once (32-bit overflow) and would spin re-issuing.
  assert.equal(nextCheckDelayMs(year, at(0)), MAX_TIMER_MS);
  assert.equal(nextCheckDelayMs(year, at(291)), DAY);
  assert.equal(nextCheckDelayMs(year, at(300)), 0);
  const short = { validFrom: from, validTo: new Date(from.getTime() + 10_000) };
  assert.equal(nextCheckDelayMs(short, from), 8_000);
});
