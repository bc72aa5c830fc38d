import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Pod } from '../model/types.js';
import { chooseContainer, describeState } from './containers.js';

function pod(containers: string[], init: string[] = [], annotation?: string): Pod {
  return {
    apiVersion: 'v1', kind: 'Pod',
    metadata: { name: 'web', namespace: 'shop', ...(annotation ? { annotations: { 'kubectl.kubernetes.io/default-container': annotation } } : {}) },
    spec: { containers: containers.map((name) => ({ name })), ...(init.length ? { initContainers: init.map((name) => ({ name })) } : {}) },
  };
}

describe('chooseContainer (kubectl default-container rule)', () => {
  it('takes the annotated container silently, as kubectl', () => {
    assert.deepEqual(chooseContainer(pod(['skein-proxy', 'app', 'cache'], ['skein-init'], 'cache'), undefined), { name: 'cache' });
  });

  it('else the first app container, with kubectl\'s notice listing app then init containers', () => {
    assert.deepEqual(chooseContainer(pod(['app', 'cache'], ['skein-init', 'skein-proxy']), undefined),
      { name: 'app', notice: 'Defaulted container "app" out of: app, cache, skein-init (init), skein-proxy (init)' });
  });

  it('skips the injected sidecar when it comes first and no annotation names the app', () => {
    assert.equal(chooseContainer(pod(['skein-proxy', 'app']), undefined).name, 'app');
    assert.equal(chooseContainer(pod(['skein-proxy', 'app'], [], 'gone'), undefined).name, 'app', 'an annotation naming no container is ignored');
  });

  it('a single container needs no notice; the sidecar only by name', () => {
    assert.deepEqual(chooseContainer(pod(['app']), undefined), { name: 'app' });
    assert.deepEqual(chooseContainer(pod(['app'], ['skein-proxy'], 'app'), 'skein-proxy'), { name: 'skein-proxy' });
  });

  it('an unknown -c names the pod, lists its containers and says what to do', () => {
    assert.throws(() => chooseContainer(pod(['app'], ['skein-proxy']), 'db'),
      /container "db" not found in pod shop\/web: its containers are app, skein-proxy \(init\); pass one of them with -c/);
  });
});

describe('describeState', () => {
  it('says why a container is not running', () => {
    const base = { name: 'a', image: '', ready: false, started: false, restartCount: 2, lastState: {} };
    assert.equal(describeState(undefined), 'not started yet');
    assert.equal(describeState({ ...base, state: { waiting: { reason: 'CrashLoopBackOff', message: 'back-off 20s' } } }), 'waiting (CrashLoopBackOff: back-off 20s)');
    assert.equal(describeState({ ...base, state: { terminated: { exitCode: 3, reason: 'Error', finishedAt: 'x' } } }), 'terminated (Error, exit code 3)');
  });
});
