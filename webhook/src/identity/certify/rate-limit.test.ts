import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { RateLimiter } from './rate-limit.js';

describe('RateLimiter (token bucket per identity)', () => {
  it('allows the burst, then one per refill interval, and says when to retry', () => {
    let now = 1_000_000;
    const r = new RateLimiter(5, 10, () => now);
    for (let i = 0; i < 5; i++) assert.equal(r.take('a').allowed, true);
    const refused = r.take('a');
    assert.equal(refused.allowed, false);
    assert.equal(refused.retryAfterSeconds, 6);
    now += 3_000;
    assert.deepEqual(r.take('a'), { allowed: false, retryAfterSeconds: 3 });
    now += 3_000;
    assert.equal(r.take('a').allowed, true);
    assert.equal(r.take('a').allowed, false);
    // The bucket never holds more than the burst, however long the identity was idle.
    now += 3_600_000;
    for (let i = 0; i < 5; i++) assert.equal(r.take('a').allowed, true);
    assert.equal(r.take('a').allowed, false);
  });

  it('keys are independent, and refilled buckets are forgotten', () => {
    let now = 0;
    const r = new RateLimiter(1, 60, () => now);
    assert.equal(r.take('a').allowed, true);
    assert.equal(r.take('b').allowed, true);
    assert.equal(r.take('a').allowed, false);
    for (let i = 0; i < 1100; i++) r.take(`k${i}`);
    assert.ok(r.size > 1000);
    now += 2_000;
    r.take('last');
    assert.ok(r.size < 10, `${r.size} buckets kept`);
  });
});
