import { test } from 'node:test';
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { createCa, issueServing } from '../tls/issue.js';
import { craftedPems } from '../tls/testing/crafted-der.js';
import { assessSecret, decodeSecretData, encodeSecretData, renewPems, KEY_CA_KEY, KEY_TLS_CRT } from './tls-secret.js';

const DAY = 24 * 3600 * 1000;
const now = new Date();
const ca = createCa(now);
const fresh = { ca, serving: issueServing(ca, 'skein-system', now) };

test('Secret data round-trips through base64 and a missing key means "create"', () => {
  const data = encodeSecretData(fresh);
  assert.deepEqual(decodeSecretData(data), fresh);
  const partial = { ...data };
  delete partial[KEY_CA_KEY];
  assert.equal(decodeSecretData(partial), undefined);
  assert.equal(assessSecret(decodeSecretData(partial), now).action, 'create');
  assert.equal(assessSecret(undefined, now).action, 'create');
});

test('a fresh Secret is kept and yields checked material', () => {
  const v = assessSecret(fresh, now);
  assert.equal(v.action, 'keep');
  if (v.action === 'keep') assert.equal(v.material.caCertPem, ca.certPem);
});

test('a serving certificate past 80% is re-issued with the same CA', () => {
  const old = { ca, serving: issueServing(ca, 'skein-system', new Date(now.getTime() - 300 * DAY)) };
  const v = assessSecret(old, now);
  assert.equal(v.action, 'reissue-serving');
  const renewed = renewPems(old, v, 'skein-system', now);
  assert.equal(renewed.ca, ca);
  assert.equal(assessSecret(renewed, now).action, 'keep');
  assert.notEqual(renewed.serving.certPem, old.serving.certPem);
});

test('a broken serving pair is re-issued; a broken or expired CA starts over', () => {
  const broken = { ca, serving: { certPem: fresh.serving.certPem, keyPem: issueServing(ca).keyPem } };
  assert.equal(assessSecret(broken, now).action, 'reissue-serving');
  const badCa = { ca: { certPem: 'nope', keyPem: ca.keyPem }, serving: fresh.serving };
  const v = assessSecret(badCa, now);
  assert.equal(v.action, 'create');
  const renewed = renewPems(badCa, v, 'skein-system', now);
  assert.notEqual(renewed.ca.certPem, 'nope');
  assert.equal(assessSecret(renewed, now).action, 'keep');
  const oldCa = createCa(new Date(now.getTime() - 20 * DAY), 10);
  assert.equal(assessSecret({ ca: oldCa, serving: issueServing(oldCa) }, now).action, 'create');
});

test('encoded tls.crt is the serving certificate (kubernetes.io/tls layout)', () => {
  const crt = Buffer.from(encodeSecretData(fresh)[KEY_TLS_CRT] ?? '', 'base64').toString('utf8');
  assert.equal(new X509Certificate(crt).ca, false);
});

test('regression: a CA key that does not match its certificate is not used to re-issue (the leader would fail every poll)', () => {
  const otherKey = createCa(now).keyPem;
  const due = { ca: { certPem: ca.certPem, keyPem: otherKey }, serving: issueServing(ca, 'skein-system', new Date(now.getTime() - 300 * DAY)) };
  const v = assessSecret(due, now);
  assert.equal(v.action, 'create');
  assert.match(v.action === 'create' ? v.reason : '', /CA key does not belong/);
  assert.equal(assessSecret(renewPems(due, v, 'skein-system', now), now).action, 'keep');
  // A serving certificate that still works is kept: no new CA (and caBundle churn) before rotation is due.
  assert.equal(assessSecret({ ca: due.ca, serving: fresh.serving }, now).action, 'keep');
});

test('crafted DER in the Secret (deep nesting, huge OID arcs, garbage keys) gives a verdict, never a throw (C2)', () => {
  for (const [name, pem] of Object.entries(craftedPems())) {
    for (const pems of [
      { ca: { certPem: pem, keyPem: ca.keyPem }, serving: fresh.serving },
      { ca: { certPem: ca.certPem, keyPem: pem }, serving: { certPem: fresh.serving.certPem, keyPem: pem } },
      { ca, serving: { certPem: pem, keyPem: fresh.serving.keyPem } },
    ]) {
      const v = assessSecret(pems, now);
      assert.notEqual(v.action, 'keep', name);
      const renewed = renewPems(pems, v, 'skein-system', now);
      assert.equal(assessSecret(renewed, now).action, 'keep', name);
    }
  }
});
