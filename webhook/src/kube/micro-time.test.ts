import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatMicroTime, parseMicroTime } from './micro-time.js';
import { parseGoTime, RFC3339_MICRO } from './testing/apiserver/go-time.js';

test('formatMicroTime writes six fractional digits, which the API server\'s RFC3339Micro parse accepts', () => {
  const d = new Date('2026-12-04T03:13:05.646Z');
  assert.equal(formatMicroTime(d), '2026-12-04T03:13:05.646000Z');
  assert.doesNotThrow(() => parseGoTime(RFC3339_MICRO, formatMicroTime(d)));
  assert.doesNotThrow(() => parseGoTime(RFC3339_MICRO, formatMicroTime(new Date(0))));
  assert.throws(() => parseGoTime(RFC3339_MICRO, d.toISOString()), /cannot parse "\.646Z" as "\.000000"/, 'what client-node sends for a plain Date');
  assert.throws(() => formatMicroTime(new Date(Number.NaN)), RangeError);
});

test('parseMicroTime reads what the API server serves (and what client-node hands back: a string)', () => {
  assert.equal(parseMicroTime('2026-12-04T03:13:05.646123Z')?.toISOString(), '2026-12-04T03:13:05.646Z', 'truncated to milliseconds');
  assert.equal(parseMicroTime('2026-12-04T03:13:05.646000+01:00')?.toISOString(), '2026-12-04T02:13:05.646Z');
  assert.equal(parseMicroTime('2026-12-04T03:13:05Z')?.toISOString(), '2026-12-04T03:13:05.000Z');
  const d = new Date('2026-12-04T03:13:05.646Z');
  assert.equal(parseMicroTime(d)?.getTime(), d.getTime());
  for (const absent of [undefined, null, '', 'yesterday', 42, new Date(Number.NaN), '2026-12-04 03:13:05Z']) {
    assert.equal(parseMicroTime(absent), undefined, String(absent));
  }
});
