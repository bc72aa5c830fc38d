// One AdmissionReview in, one AdmissionReview out: decode the request, let the injector decide, turn the
// decision into an answer with a patch. Thin by design (Kuma's pod mutator): all pod logic is in ../injector.
import type { V1Pod } from '@kubernetes/client-node';
import { decide, type InjectDecision, type InjectorConfig } from '../injector/index.js';
import { BadRequestError } from './errors.js';
import type { AdmissionOutcome } from './metrics.js';
import { podPatch } from './patch.js';
import { readRequest, reviewOf, type AdmissionRequest, type AdmissionResponse } from './review.js';

export interface ReviewOutcome {
  review: ReturnType<typeof reviewOf>;
  decision: Exclude<AdmissionOutcome, 'error'>;
  reason: string;
  /** Fields for the per-admission log line. */
  context: { uid: string; namespace: string; pod: string; operation: string; dryRun: boolean };
}

function isPodCreate(req: AdmissionRequest): boolean {
  const { group, version, kind } = req.kind;
  return group === '' && version === 'v1' && kind === 'Pod' && !req.subResource && req.operation === 'CREATE';
}

function podLabel(obj: unknown): string {
  const meta = (obj as V1Pod | undefined)?.metadata;
  if (typeof meta?.name === 'string' && meta.name !== '') return meta.name;
  if (typeof meta?.generateName === 'string') return `${meta.generateName}*`;
  return '';
}

function responseFor(uid: string, pod: V1Pod, d: InjectDecision): AdmissionResponse {
  switch (d.kind) {
    case 'inject': {
      // Same patch for dryRun requests: the webhook has no side effects to suppress (sideEffects: None).
      const ops = podPatch(pod, d.inPlace, d.pod);
      return { uid, allowed: true, patchType: 'JSONPatch', patch: Buffer.from(JSON.stringify(ops)).toString('base64') };
    }
    case 'skip':
      return { uid, allowed: true };
    case 'reject':
      // The API server shows the message to the user: it names the container and what to change.
      return { uid, allowed: false, status: { status: 'Failure', code: 400, reason: 'BadRequest', message: d.message } };
  }
}

/** Throws BadRequestError when `body` is not a usable AdmissionReview. */
export function answerReview(body: unknown, cfg: InjectorConfig): ReviewOutcome {
  const req = readRequest(body);
  const obj = req.object;
  const namespace = req.namespace || (obj as V1Pod | undefined)?.metadata?.namespace || '';
  const context = { uid: req.uid, namespace, pod: podLabel(obj), operation: req.operation, dryRun: req.dryRun };
  if (!isPodCreate(req)) {
    // The webhook configuration sends only pod CREATE; anything else is let through untouched.
    return { review: reviewOf({ uid: req.uid, allowed: true }), decision: 'skip', reason: 'not-pod-create', context };
  }
  if (typeof obj !== 'object' || obj === null || Array.isArray(obj)) {
    throw new BadRequestError('InvalidAdmissionReview', 'request.object must be the Pod being created');
  }
  const d = decide(obj as V1Pod, namespace, cfg);
  return { review: reviewOf(responseFor(req.uid, obj as V1Pod, d)), decision: d.kind, reason: d.reason, context };
}
