import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseQuantityStrict, quantityBytes } from './quantity.js';

describe('Kubernetes quantities', () => {
  it('parses binary-SI, decimal-SI and exponent forms', () => {
    const cases: [string | number, number][] = [
      ['64Mi', 64 * 2 ** 20], ['1Gi', 2 ** 30], ['100M', 1e8], ['1.5Gi', 1.5 * 2 ** 30], ['128974848', 128974848],
      ['129e6', 129e6], ['1E3', 1000], ['500m', 0.5], ['2k', 2000], ['.5Ki', 512], ['1.', 1], [' 8Mi ', 8 * 2 ** 20], [42, 42],
    ];
    for (const [q, want] of cases) assert.equal(parseQuantityStrict(q), want, String(q));
  });
  it('rounds bytes up like Quantity.Value()', () => {
    assert.equal(quantityBytes('1500m'), 2);
    assert.equal(quantityBytes('64Mi'), 67108864);
  });
  it('refuses what the API server refuses, naming the text', () => {
    for (const bad of ['', 'Mi', '64MB', '64 Mi', '1Gi1', 'ten', '1e', '0x10', '1.2.3']) {
      assert.throws(() => parseQuantityStrict(bad), (e: Error) => e.message.includes(`"${bad}" is not a Kubernetes quantity`), bad);
    }
  });
});
