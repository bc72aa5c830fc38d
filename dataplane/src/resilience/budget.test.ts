import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { RetryBudget } from './budget.js';

// A clock passed in: the window is about seconds of traffic, not about how fast the test runs.
describe('retry budget', () => {
  it('allows retries up to 20 % of the requests of the window', () => {
    const budget = new RetryBudget({ minPerSecond: 0 });
    const t = 1_000_000;
    for (let i = 0; i < 100; i++) budget.request(t);
    let allowed = 0;
    for (let i = 0; i < 100; i++) if (budget.tryRetry(t)) allowed++;
    assert.equal(allowed, 20);
  });

  it('stops a storm: every request failing and retried gets at most the budget, then none', () => {
    const budget = new RetryBudget();
    let retried = 0;
    let requests = 0;
    // 10 s of 1,000 failing requests per second, each wanting a retry.
    for (let s = 0; s < 10; s++) {
      for (let i = 0; i < 1_000; i++) {
        const now = 5_000_000 + s * 1_000 + i;
        budget.request(now);
        requests++;
        if (budget.tryRetry(now)) retried++;
      }
    }
    assert.ok(retried <= requests * 0.2 + 1, `retried ${retried} of ${requests}`);
    assert.ok(retried >= requests * 0.19, 'the budget is used, not refused outright');
  });

  it('keeps a minimum of 3 retries per second of the window for a quiet upstream', () => {
    const budget = new RetryBudget();
    const t = 9_000_000;
    budget.request(t);
    let allowed = 0;
    for (let i = 0; i < 100; i++) if (budget.tryRetry(t)) allowed++;
    assert.equal(allowed, 30, '3/s over a 10 s window');
  });

  it('forgets what is older than the window', () => {
    const budget = new RetryBudget({ minPerSecond: 0 });
    const t = 7_000_000;
    for (let i = 0; i < 10; i++) budget.request(t);
    assert.equal(budget.tryRetry(t), true);
    assert.equal(budget.tryRetry(t), true);
    assert.equal(budget.tryRetry(t), false, '2 of 10 used');
    // 11 s later the old requests and retries no longer count: no request, no retry.
    assert.equal(budget.tryRetry(t + 11_000), false);
    budget.request(t + 11_000);
    for (let i = 0; i < 4; i++) budget.request(t + 11_000);
    assert.equal(budget.tryRetry(t + 11_000), true, '1 of 5 allowed, the old retries forgotten');
    assert.equal(budget.tryRetry(t + 11_000), false);
  });
});
