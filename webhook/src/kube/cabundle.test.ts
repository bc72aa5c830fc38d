import { test } from 'node:test';
import assert from 'node:assert/strict';
import fjp from 'fast-json-patch';
import { caBundlePatch } from './cabundle.js';

const { applyPatch } = fjp;
const CA = '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n';
const B64 = Buffer.from(CA).toString('base64');

function mwc(): { webhooks: { name: string; clientConfig?: { caBundle?: string; service?: object } }[] } {
  return {
    webhooks: [
      { name: 'pods.skein.io', clientConfig: { service: { name: 'skein-cp' } } },
      { name: 'pods-objsel.skein.io', clientConfig: { caBundle: 'b2xk', service: { name: 'skein-cp' } } },
      { name: 'already.skein.io', clientConfig: { caBundle: B64 } },
      { name: 'bare.skein.io' },
    ],
  };
}

test('sets the caBundle of every webhook that lacks it or has another, and leaves the rest', () => {
  const doc = mwc();
  const ops = caBundlePatch(doc.webhooks, CA);
  const out = applyPatch(structuredClone(doc), ops as never, true, false).newDocument;
  for (const w of out.webhooks) assert.equal(w.clientConfig?.caBundle, B64, w.name);
  assert.deepEqual(out.webhooks[0]?.clientConfig?.service, { name: 'skein-cp' });
  assert.ok(!ops.some((o) => o.path.startsWith('/webhooks/2/')), 'unchanged webhook not touched');
});

test('nothing to do when every bundle is current', () => {
  const doc = mwc();
  const done = applyPatch(structuredClone(doc), caBundlePatch(doc.webhooks, CA) as never, true, false).newDocument;
  assert.deepEqual(caBundlePatch(done.webhooks, CA), []);
  assert.deepEqual(caBundlePatch(undefined, CA), []);
});

test('a webhook list reordered between read and patch makes the patch fail (test op)', () => {
  const read = mwc();
  const ops = caBundlePatch(read.webhooks, CA);
  const changed = mwc();
  changed.webhooks.reverse();
  assert.throws(() => applyPatch(changed, ops as never, true, false), /Test operation failed/);
});
