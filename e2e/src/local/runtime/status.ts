// Pod status from container statuses (pure): phase, conditions.
import type { ContainerStatus, PodPhase, PodStatus } from '../model/types.js';

export interface PodProgress {
  /** All regular init containers completed and every sidecar started. */
  initialized: boolean;
  /** Every app container was started at least once. */
  appsStarted: boolean;
  /** Final phase once no app container will run again. */
  final?: 'Succeeded' | 'Failed';
  message?: string;
}

export function podPhase(p: PodProgress): PodPhase {
  if (p.final) return p.final;
  return p.initialized && p.appsStarted ? 'Running' : 'Pending';
}

export function podConditions(p: PodProgress, init: readonly ContainerStatus[], apps: readonly ContainerStatus[],
  sidecarNames: ReadonlySet<string>, now: string): NonNullable<PodStatus['conditions']> {
  const sidecarsReady = init.filter((s) => sidecarNames.has(s.name)).every((s) => s.ready);
  const containersReady = p.final === undefined && p.appsStarted && apps.every((s) => s.ready) && sidecarsReady;
  const cond = (type: string, ok: boolean): { type: string; status: 'True' | 'False'; lastTransitionTime: string } =>
    ({ type, status: ok ? 'True' : 'False', lastTransitionTime: now });
  return [
    cond('PodScheduled', true),
    cond('Initialized', p.initialized),
    cond('ContainersReady', containersReady),
    cond('Ready', containersReady),
  ];
}

/** Kubelet-like restart backoff, shortened for a development node: 1s, 2s, 4s … capped at 20s. */
export function backoffMs(restartCount: number): number {
  return Math.min(20_000, 1000 * 2 ** Math.min(restartCount, 5));
}
