import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { ErrorThrottle } from './throttle.js';

test('repeated failures are logged once a minute with a count; a new message or recovery logs at once', () => {
  const lines: Record<string, unknown>[] = [];
  const sink = new Writable({ write(chunk: Buffer, _enc, cb) { lines.push(JSON.parse(chunk.toString()) as Record<string, unknown>); cb(); } });
  let now = 0;
  const t = new ErrorThrottle(pino({ level: 'info' }, sink), 'warn', 60_000, () => now);
  for (let i = 0; i < 30; i++) { t.report(new Error('connect ECONNREFUSED'), 'lease failed'); now += 2_000; }
  // t = 0 logged; t = 60 s logged with the 29 in between counted
  assert.equal(lines.length, 1);
  t.report(new Error('connect ECONNREFUSED'), 'lease failed');
  assert.equal(lines.length, 2);
  assert.equal(lines[1]?.['repeated'], 29);
  t.report(new Error('403 Forbidden'), 'lease failed');
  assert.equal(lines.length, 3);
  t.clear();
  assert.equal(lines[3]?.['msg'], 'recovered');
  t.clear();
  assert.equal(lines.length, 4);
});
