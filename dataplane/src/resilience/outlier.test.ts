import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { OutlierDetector } from './outlier.js';

// A clock passed in: ejection intervals are 30 s and more.
describe('passive health checking (outlier detection)', () => {
  it('ejects on a connect failure for base × times-ejected, growing, capped', () => {
    const d = new OutlierDetector({ baseEjectionMs: 30_000, maxEjectionMs: 100_000 });
    d.setEndpoints(['a', 'b', 'c', 'd']);
    let t = 1_000_000;
    assert.equal(d.failure('a', 'connect', t), true);
    assert.equal(d.remainingMs('a', t), 30_000);
    assert.equal(d.isEjected('a', t + 29_999), true);
    assert.equal(d.isEjected('a', t + 30_000), false, 'back after 30 s');
    t += 30_000;
    assert.equal(d.failure('a', 'connect', t), true);
    assert.equal(d.remainingMs('a', t), 60_000, 'second ejection: twice as long');
    t += 60_000;
    assert.equal(d.isEjected('a', t), false);
    assert.equal(d.failure('a', 'connect', t), true);
    assert.equal(d.remainingMs('a', t), 90_000);
    t += 90_000;
    assert.equal(d.isEjected('a', t), false);
    assert.equal(d.failure('a', 'connect', t), true);
    assert.equal(d.remainingMs('a', t), 100_000, 'capped');
    assert.equal(d.isEjected('b', t), false);
  });

  it('ejects after 5 consecutive 5xx, and a success ends the streak', () => {
    const d = new OutlierDetector();
    d.setEndpoints(['a', 'b']);
    const t = 2_000_000;
    for (let i = 0; i < 4; i++) assert.equal(d.failure('a', '5xx', t), false);
    d.success('a');
    for (let i = 0; i < 4; i++) assert.equal(d.failure('a', '5xx', t), false);
    assert.equal(d.isEjected('a', t), false);
    assert.equal(d.failure('a', '5xx', t), true, 'the fifth in a row');
    assert.equal(d.isEjected('a', t), true);
  });

  it('never ejects more than the max share, and always keeps one endpoint', () => {
    const d = new OutlierDetector();
    d.setEndpoints(['a', 'b', 'c', 'd']);
    const t = 3_000_000;
    assert.equal(d.failure('a', 'connect', t), true);
    assert.equal(d.failure('b', 'connect', t), true);
    assert.equal(d.failure('c', 'connect', t), false, '50 % of 4 already ejected');
    assert.deepEqual(['a', 'b', 'c', 'd'].map((k) => d.isEjected(k, t)), [true, true, false, false]);
    const one = new OutlierDetector({ maxEjectedShare: 1 });
    one.setEndpoints(['x']);
    assert.equal(one.failure('x', 'connect', t), false, 'the only endpoint is never ejected');
    const two = new OutlierDetector({ maxEjectedShare: 1 });
    two.setEndpoints(['x', 'y']);
    assert.equal(two.failure('x', 'connect', t), true);
    assert.equal(two.failure('y', 'connect', t), false, 'one endpoint always kept');
    // When an ejection ends, another may take its place.
    assert.equal(d.isEjected('a', t + 30_000), false);
    assert.equal(d.failure('c', 'connect', t + 30_000), true);
  });

  it('gives the balancer an exclude filter on the real clock', () => {
    const d = new OutlierDetector();
    d.setEndpoints(['a', 'b', 'c']);
    assert.equal(d.failure('a', 'connect'), true);
    assert.deepEqual(['a', 'b', 'c'].filter((key) => !d.excludeEjected({ key })), ['b', 'c']);
  });

  it('keeps the state of endpoints that stay across snapshots and forgets removed ones', () => {
    const d = new OutlierDetector();
    d.setEndpoints(['a', 'b', 'c', 'd']);
    const t = 4_000_000;
    assert.equal(d.failure('a', 'connect', t), true);
    assert.equal(d.failure('b', 'connect', t), true);
    d.setEndpoints(['a', 'c', 'd', 'e']);
    assert.equal(d.isEjected('a', t), true, 'a stays ejected');
    assert.equal(d.isEjected('b', t), false, 'b is gone');
    assert.equal(d.failure('c', 'connect', t), true, 'one ejected of 4: one more may go');
  });
});
