// Test support (not a test file): the AdmissionReview an API server sends for a Pod, built in one place for
// the golden/HTTP tests (server.ts), the skein-cp process tests and the admission benchmark (bench/review.ts).
import { REVIEW_API_VERSION } from '../review.js';

export interface ReviewInput { object: unknown; namespace?: string; operation?: string; dryRun?: boolean; kind?: { group: string; version: string; kind: string } }

/** An `admission.k8s.io/v1` AdmissionReview request for `input.object` (a Pod CREATE by default). */
export function reviewObject(uid: string, input: ReviewInput): { apiVersion: string; kind: string; request: Record<string, unknown> } {
  const kind = input.kind ?? { group: '', version: 'v1', kind: 'Pod' };
  const resource = { group: kind.group, version: kind.version, resource: `${kind.kind.toLowerCase()}s` };
  return {
    apiVersion: REVIEW_API_VERSION,
    kind: 'AdmissionReview',
    request: {
      uid,
      kind,
      resource,
      requestKind: kind,
      requestResource: resource,
      namespace: input.namespace ?? 'default',
      operation: input.operation ?? 'CREATE',
      userInfo: { username: 'system:serviceaccount:kube-system:replicaset-controller', groups: ['system:serviceaccounts', 'system:authenticated'] },
      object: input.object,
      oldObject: null,
      dryRun: input.dryRun ?? false,
      options: { apiVersion: 'meta.k8s.io/v1', kind: 'CreateOptions' },
    },
  };
}
