// The injector's one decision: inject (with the mutated pod), skip (leave the pod alone) or reject (the pod
// cannot be meshed safely as written). Pure: no I/O, no clock, the input is never modified.
import type { V1Pod } from '@kubernetes/client-node';
import { readMeshOptions } from './annotations.js';
import type { InjectorConfig } from './config.js';
import { InjectRejection, type RejectReason } from './errors.js';
import { mutatePod } from './mutate.js';
import { checkInjectable, skipReason, type SkipReason } from './precheck.js';
import { assertPodShape } from './shape.js';

export type InjectDecision =
  | {
    kind: 'inject';
    reason: 'injected';
    /** The injected pod. Shares unchanged subtrees with the input: treat both as read-only. */
    pod: V1Pod;
    /** The intermediate stage (fields changed in place, no list insertions) the patch is diffed through. */
    inPlace: V1Pod;
  }
  | { kind: 'skip'; reason: SkipReason; message: string }
  | { kind: 'reject'; reason: RejectReason; message: string };

/**
 * A run-to-completion pod (restartPolicy Never or OnFailure: Jobs, CronJobs, one-shot pods) gets a native
 * sidecar unless it says otherwise: a classic sidecar never exits, so the pod would never complete. Kubernetes
 * ends native sidecars once the app containers have finished — unless the config says native sidecars cannot
 * run here (`nativeSidecarRunToCompletion`). Everything else follows the injector config.
 */
function nativeByDefault(pod: V1Pod, cfg: InjectorConfig): boolean {
  const policy = pod.spec?.restartPolicy;
  return cfg.nativeSidecarDefault || (cfg.nativeSidecarRunToCompletion && (policy === 'Never' || policy === 'OnFailure'));
}

/** `namespace` is the admission request's namespace (a pod being created may not carry one yet). */
export function decide(pod: V1Pod, namespace: string, cfg: InjectorConfig): InjectDecision {
  try {
    assertPodShape(pod);
    const skip = skipReason(pod, namespace, cfg.controlPlaneNamespace);
    if (skip !== undefined) return { kind: 'skip', ...skip };
    checkInjectable(pod);
    const opts = readMeshOptions(pod.metadata?.annotations ?? {}, nativeByDefault(pod, cfg));
    const { inPlace, pod: injected } = mutatePod(pod, cfg, opts);
    return { kind: 'inject', reason: 'injected', pod: injected, inPlace };
  } catch (err) {
    if (err instanceof InjectRejection) return { kind: 'reject', reason: err.code, message: err.message };
    throw err;
  }
}
