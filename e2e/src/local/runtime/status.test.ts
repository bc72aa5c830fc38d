import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ContainerStatus, Pod } from '../model/types.js';
import { podStatusText } from '../commands/format.js';
import { backoffMs, podConditions, podPhase } from './status.js';

const cs = (name: string, ready: boolean, state: ContainerStatus['state'], restartCount = 0): ContainerStatus =>
  ({ name, image: 'i', ready, started: ready, restartCount, state, lastState: {} });

describe('pod phase and conditions', () => {
  it('Pending until init is done and every app container started, then Running, then final', () => {
    assert.equal(podPhase({ initialized: false, appsStarted: false }), 'Pending');
    assert.equal(podPhase({ initialized: true, appsStarted: false }), 'Pending');
    assert.equal(podPhase({ initialized: true, appsStarted: true }), 'Running');
    assert.equal(podPhase({ initialized: true, appsStarted: true, final: 'Succeeded' }), 'Succeeded');
  });
  it('Ready needs every app container and every native sidecar ready', () => {
    const running = { running: { startedAt: 't' } };
    const apps = [cs('app', true, running)];
    const ready = (init: ContainerStatus[]): string | undefined =>
      podConditions({ initialized: true, appsStarted: true }, init, apps, new Set(['proxy']), 't').find((c) => c.type === 'Ready')?.status;
    assert.equal(ready([cs('proxy', true, running), cs('init', false, { terminated: { exitCode: 0, reason: 'Completed', finishedAt: 't' } })]), 'True');
    assert.equal(ready([cs('proxy', false, running)]), 'False');
    assert.equal(podConditions({ initialized: true, appsStarted: true, final: 'Succeeded' }, [], apps, new Set(), 't').find((c) => c.type === 'Ready')?.status, 'False');
  });
  it('backoff doubles from 1s and is capped at 20s', () => {
    assert.deepEqual([0, 1, 2, 3, 4, 5, 9].map(backoffMs), [1000, 2000, 4000, 8000, 16000, 20000, 20000]);
  });
});

describe('STATUS column', () => {
  const pod = (status: Pod['status'], initContainers: Pod['spec']['initContainers'] = []): Pod =>
    ({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p' }, spec: { containers: [{ name: 'c' }], initContainers }, status });
  it('shows kubectl words', () => {
    assert.equal(podStatusText(pod({ phase: 'Succeeded' })), 'Completed');
    assert.equal(podStatusText(pod({ phase: 'Failed' })), 'Error');
    assert.equal(podStatusText(pod({ phase: 'Running', containerStatuses: [cs('c', false, { waiting: { reason: 'CrashLoopBackOff' } }, 2)] })), 'CrashLoopBackOff');
    const init = [cs('a', false, { terminated: { exitCode: 0, reason: 'Completed', finishedAt: 't' } }), cs('b', false, { running: { startedAt: 't' } })];
    assert.equal(podStatusText(pod({ phase: 'Pending', initContainerStatuses: init, conditions: [{ type: 'Initialized', status: 'False' }] }, [{ name: 'a' }, { name: 'b' }])), 'Init:1/2');
    assert.equal(podStatusText(pod({ phase: 'Running', conditions: [{ type: 'Initialized', status: 'True' }] })), 'Running');
  });
});
