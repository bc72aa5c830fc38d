import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { InvalidError } from '../errors.js';
import type { Pod, Volume } from '../model/types.js';
import { validateVolumes } from './validate.js';

const pod = (volumes: Volume[], subPath?: string): Pod => ({
  apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p', namespace: 'ns' },
  spec: { volumes, containers: [{ name: 'c', command: ['true'], volumeMounts: volumes.map((v) => ({ name: v.name, mountPath: '/m', ...(subPath ? { subPath } : {}) })) }] },
});
const refused = (p: Pod, what: RegExp): void => assert.throws(() => validateVolumes(p), (e: Error) => e instanceof InvalidError && what.test(e.message));

describe('volume validation (as the API server)', () => {
  it('accepts ordinary volumes', () => {
    validateVolumes(pod([{ name: 'cache', emptyDir: { medium: 'Memory' } }, { name: 'cfg-1', configMap: { name: 'x', items: [{ key: 'a', path: 'dir/a.txt' }] } }], 'sub/dir'));
  });
  it('refuses a volume name that is no DNS-1123 label (a path out of the pod dir)', () => {
    refused(pod([{ name: '../../../../etc', emptyDir: { medium: 'Memory' } }]), /volume name "\.\.\/\.\.\/\.\.\/\.\.\/etc" is not a DNS-1123 label/);
    refused(pod([{ name: 'Cache', emptyDir: {} }]), /not a DNS-1123 label/);
    refused(pod([{ name: 'a'.repeat(64), emptyDir: {} }]), /at most 63/);
    refused(pod([{ name: 'a', emptyDir: {} }, { name: 'a', emptyDir: {} }]), /used twice/);
  });
  it("refuses items paths, token paths and subPaths that are absolute or contain '..'", () => {
    refused(pod([{ name: 's', secret: { secretName: 'x', items: [{ key: 'k', path: '../../k' }] } }]), /secret\.items\[0\]\.path "\.\.\/\.\.\/k" must not contain/);
    refused(pod([{ name: 'd', downwardAPI: { items: [{ path: '/etc/x', fieldRef: { fieldPath: 'metadata.name' } }] } }]), /must be a relative path/);
    refused(pod([{ name: 't', projected: { sources: [{ serviceAccountToken: { path: 'a/../../t' } }] } }]), /serviceAccountToken\.path/);
    refused(pod([{ name: 'e', emptyDir: {} }], '../up'), /container c: volumeMount "e" subPath "\.\.\/up"/);
  });
});
