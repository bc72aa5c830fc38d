import { test } from 'node:test';
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { createCa, issueServing, servingDnsNames } from './issue.js';
import { checkServing } from './material.js';
import { TlsMaterialError } from '../errors.js';

const ca = createCa();
const serving = issueServing(ca);

test('the CA is a CA and the serving certificate chains to it (checked by node:crypto)', () => {
  const caCert = new X509Certificate(ca.certPem);
  assert.equal(caCert.ca, true);
  const checked = checkServing({ caCertPem: ca.certPem, ...serving });
  assert.ok(checked.validTo.getTime() > Date.now() + 360 * 24 * 3600 * 1000);
  assert.match(checked.fingerprint, /^([0-9A-F]{2}:){31}[0-9A-F]{2}$/);
});

test('serving certificate carries every Service name, localhost and 127.0.0.1', () => {
  const leaf = new X509Certificate(serving.certPem);
  assert.equal(leaf.ca, false);
  for (const name of servingDnsNames()) assert.equal(leaf.checkHost(name), name, name);
  assert.equal(leaf.checkHost('skein-cp.skein-system.svc.cluster.local'), 'skein-cp.skein-system.svc.cluster.local');
  assert.equal(leaf.checkIP('127.0.0.1'), '127.0.0.1');
  assert.equal(leaf.checkHost('evil.example.com'), undefined);
  assert.ok(leaf.keyUsage?.includes('1.3.6.1.5.5.7.3.1'), 'extKeyUsage serverAuth');
});

test('another namespace gets its own Service names', () => {
  const leaf = new X509Certificate(issueServing(ca, 'mesh-cp').certPem);
  assert.equal(leaf.checkHost('skein-cp.mesh-cp.svc'), 'skein-cp.mesh-cp.svc');
  assert.equal(leaf.checkHost('skein-cp.skein-system.svc'), undefined);
});

test('material that does not hang together is refused with a reason', () => {
  const otherCa = createCa();
  assert.throws(() => checkServing({ caCertPem: otherCa.certPem, ...serving }), (e: unknown) => e instanceof TlsMaterialError && /not signed by the CA/.test(e.message));
  const other = issueServing(ca);
  assert.throws(() => checkServing({ caCertPem: ca.certPem, certPem: serving.certPem, keyPem: other.keyPem }), /does not belong/);
  assert.throws(() => checkServing({ caCertPem: ca.certPem, certPem: 'garbage', keyPem: serving.keyPem }), /does not parse/);
  assert.throws(() => checkServing({ caCertPem: serving.certPem, ...serving }), /not a CA/);
  const expired = issueServing(ca, 'skein-system', new Date(Date.now() - 3 * 24 * 3600 * 1000), 1);
  assert.throws(() => checkServing({ caCertPem: ca.certPem, ...expired }), /expired/);
});
