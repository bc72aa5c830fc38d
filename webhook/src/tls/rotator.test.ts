import { test } from 'node:test';
import assert from 'node:assert/strict';
import { pino } from 'pino';
import { createCa, issueServing } from './issue.js';
import { checkServing, type CheckedServing } from './material.js';
import { CertRotator } from './rotator.js';

const quiet = pino({ level: 'silent' });
const ca = createCa();
const DAY = 24 * 3600 * 1000;
function servingIssuedAt(t: Date): CheckedServing {
  return checkServing({ caCertPem: ca.certPem, ...issueServing(ca, 'skein-system', t) });
}

test('a certificate past 80% is re-issued and handed to the listeners; a fresh one is not touched', async () => {
  let current = servingIssuedAt(new Date(Date.now() - 300 * DAY));
  const renewed = await new Promise<CheckedServing>((resolve, reject) => {
    const guard = setTimeout(() => reject(new Error('no rotation within 10 s')), 10_000);
    const r = new CertRotator({
      current: () => current,
      renew: async () => servingIssuedAt(new Date()),
      onRenewed: (m) => { current = m; r.stop(); clearTimeout(guard); resolve(m); },
      logger: quiet,
    });
    r.start();
  });
  assert.notEqual(renewed.fingerprint, servingIssuedAt(new Date(Date.now() - 300 * DAY)).fingerprint);
  assert.ok(renewed.validTo.getTime() > Date.now() + 360 * DAY);

  let renewCalls = 0;
  const fresh = servingIssuedAt(new Date());
  const r2 = new CertRotator({ current: () => fresh, renew: async () => { renewCalls++; return fresh; }, onRenewed: () => {}, logger: quiet });
  r2.start();
  await new Promise((res) => setTimeout(res, 200));
  r2.stop();
  assert.equal(renewCalls, 0);
});

test('a failing renewal is retried', async () => {
  const old = servingIssuedAt(new Date(Date.now() - 300 * DAY));
  let attempts = 0;
  let failures = 0;
  await new Promise<void>((resolve, reject) => {
    const guard = setTimeout(() => reject(new Error('no retry within 10 s')), 10_000);
    const r = new CertRotator({
      current: () => old,
      renew: async () => { attempts++; if (attempts < 3) throw new Error('boom'); return servingIssuedAt(new Date()); },
      onRenewed: () => { r.stop(); clearTimeout(guard); resolve(); },
      logger: quiet,
      onFailed: () => { failures++; },
      retryMs: 10,
    });
    r.start();
  });
  assert.equal(attempts, 3);
  assert.equal(failures, 2);
});
