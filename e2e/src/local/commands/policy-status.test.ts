import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname } from 'node:path';
import { test } from 'node:test';
import type { KubeObject } from '../model/types.js';
import { policyStatusFile, withPolicyStatus } from './policy-status.js';

test('get: a TrafficPermission shows the status skein-cp wrote; others and unjudged ones are unchanged', async () => {
  const cpDir = mkdtempSync(`${tmpdir()}/skein-policy-status-`);
  try {
    const status = { conditions: [{ type: 'Valid', status: 'False', reason: 'Invalid', message: 'spec.from[0] is empty' }, { type: 'Accepted', status: 'False', reason: 'AllowsNothing', message: '…' }] };
    const f = policyStatusFile(cpDir, 'shop', 'p');
    mkdirSync(dirname(f), { recursive: true });
    writeFileSync(f, JSON.stringify(status));
    const tp = (name: string): KubeObject => ({ apiVersion: 'skein.io/v1alpha1', kind: 'TrafficPermission', metadata: { name, namespace: 'shop' }, spec: { action: 'Allow' } });
    const pod: KubeObject = { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p', namespace: 'shop' } };
    const [judged, unjudged, other] = await withPolicyStatus(cpDir, [tp('p'), tp('q'), pod]);
    assert.deepEqual(judged, { ...tp('p'), status });
    assert.deepEqual(unjudged, tp('q'));
    assert.equal(other, pod);
  } finally {
    rmSync(cpDir, { recursive: true, force: true });
  }
});
