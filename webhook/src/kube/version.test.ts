import { test } from 'node:test';
import assert from 'node:assert/strict';
import { compareVersions, parseKubeVersion, resolveNativeSidecar, resolveNativeSidecarRunToCompletion, supportsNativeSidecar } from './version.js';

test('parses plain, managed-cluster ("29+") and gitVersion-only answers', () => {
  assert.deepEqual(parseKubeVersion({ major: '1', minor: '30', gitVersion: 'v1.30.2' }), { major: 1, minor: 30 });
  assert.deepEqual(parseKubeVersion({ major: '1', minor: '29+', gitVersion: 'v1.29.3-eks-adc7111' }), { major: 1, minor: 29 });
  assert.deepEqual(parseKubeVersion({ major: '', minor: '', gitVersion: 'v1.28.15-gke.1' }), { major: 1, minor: 28 });
  assert.equal(parseKubeVersion({ gitVersion: 'unknown' }), undefined);
  assert.equal(parseKubeVersion({}), undefined);
});

test('native sidecars from 1.29 on (compares numbers, not strings)', () => {
  assert.equal(supportsNativeSidecar({ major: 1, minor: 28 }), false);
  assert.equal(supportsNativeSidecar({ major: 1, minor: 29 }), true);
  assert.equal(supportsNativeSidecar({ major: 1, minor: 100 }), true); // "1.100" < "1.29" as strings
  assert.equal(supportsNativeSidecar({ major: 2, minor: 0 }), true);
  assert.equal(supportsNativeSidecar({ major: 0, minor: 99 }), false);
  assert.ok(compareVersions({ major: 1, minor: 9 }, { major: 1, minor: 10 }) < 0);
});

test('auto follows the server version; unknown version means classic sidecars; explicit settings win', () => {
  assert.equal(resolveNativeSidecar('auto', { major: 1, minor: 31 }), true);
  assert.equal(resolveNativeSidecar('auto', { major: 1, minor: 27 }), false);
  assert.equal(resolveNativeSidecar('auto', undefined), false);
  assert.equal(resolveNativeSidecar('true', { major: 1, minor: 27 }), true);
  assert.equal(resolveNativeSidecar('false', { major: 1, minor: 31 }), false);
});

test('run-to-completion pods: native unless the flag says false or the API server is known to be too old', () => {
  assert.equal(resolveNativeSidecarRunToCompletion('auto', undefined), true);
  assert.equal(resolveNativeSidecarRunToCompletion('auto', { major: 1, minor: 29 }), true);
  assert.equal(resolveNativeSidecarRunToCompletion('auto', { major: 1, minor: 28 }), false);
  assert.equal(resolveNativeSidecarRunToCompletion('false', { major: 1, minor: 31 }), false);
  assert.equal(resolveNativeSidecarRunToCompletion('true', { major: 1, minor: 27 }), true);
});
