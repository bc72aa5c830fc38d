// The model of Go's time.Parse against the answers a real kube-apiserver gave (the first case is the
// error text of issue 6, from v1.28.15 and v1.32.13) and Go's documented parsing rules.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatGoMicroTime, formatGoTime, parseGoTime, RFC3339, RFC3339_MICRO } from './go-time.js';

const micro = (s: string): string => formatGoMicroTime(parseGoTime(RFC3339_MICRO, s));
const time = (s: string): string => formatGoTime(parseGoTime(RFC3339, s));

test('MicroTime: a JS toISOString (three digits) is refused with the real server\'s message', () => {
  assert.throws(() => parseGoTime(RFC3339_MICRO, '2026-12-04T03:13:05.646Z'), {
    message: 'parsing time "2026-12-04T03:13:05.646Z" as "2006-01-02T15:04:05.000000Z07:00": cannot parse ".646Z" as ".000000"',
  });
});

test('MicroTime: exactly six fractional digits, any zone; no fraction, or more or fewer digits, is refused', () => {
  assert.equal(micro('2026-12-04T03:13:05.646000Z'), '2026-12-04T03:13:05.646000Z');
  assert.equal(micro('2026-12-04T03:13:05.646123+02:00'), '2026-12-04T01:13:05.646123Z');
  assert.equal(micro('2026-12-04T03:13:05,646123Z'), '2026-12-04T03:13:05.646123Z', 'Go accepts a comma separator');
  assert.equal(micro('2026-12-04T3:13:05.000001Z'), '2026-12-04T03:13:05.000001Z', 'the hour may have one digit');
  for (const bad of [
    '2026-12-04T03:13:05Z', '2026-12-04T03:13:05.64600Z', '2026-12-04T03:13:05.646123456Z', '2026-12-04T03:13:05.646000',
    '2026-12-04 03:13:05.646000Z', '2026-12-04T03:13:05.646000z', '2026-13-04T03:13:05.646000Z', '2026-02-30T03:13:05.646000Z',
    '2026-12-04T24:13:05.646000Z', '2026-12-04T03:13:05.646000Zjunk', '26-12-04T03:13:05.646000Z',
  ]) {
    assert.throws(() => parseGoTime(RFC3339_MICRO, bad), /parsing time "/, bad);
  }
  assert.throws(() => parseGoTime(RFC3339_MICRO, '2026-02-30T03:13:05.646000Z'), { message: 'parsing time "2026-02-30T03:13:05.646000Z": day out of range' });
  assert.throws(() => parseGoTime(RFC3339_MICRO, '2026-12-04T03:13:05.646000Zjunk'), { message: 'parsing time "2026-12-04T03:13:05.646000Zjunk": extra text: "junk"' });
  assert.equal(micro('2024-02-29T00:00:00.000000Z'), '2024-02-29T00:00:00.000000Z', 'leap day');
});

test('Time (RFC3339): seconds, with an optional fraction of any length that is dropped when stored', () => {
  assert.equal(time('2026-12-04T03:13:05Z'), '2026-12-04T03:13:05Z');
  assert.equal(time('2026-12-04T03:13:05.646Z'), '2026-12-04T03:13:05Z', 'a client-node Date (toISOString) is a valid metav1.Time');
  assert.equal(time('2026-12-04T03:13:05.123456789-05:30'), '2026-12-04T08:43:05Z');
  assert.throws(() => parseGoTime(RFC3339, '2026-12-04T03:13Z'), { message: 'parsing time "2026-12-04T03:13Z" as "2006-01-02T15:04:05Z07:00": cannot parse "Z" as ":"' });
  assert.throws(() => parseGoTime(RFC3339, '2026-12-04'), /cannot parse "" as "T"/);
  assert.throws(() => parseGoTime(RFC3339, '2026-12-04T03:13:05+0200'), /cannot parse "\+0200" as "Z07:00"/);
});
