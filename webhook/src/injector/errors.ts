// Why the injector refuses a pod. Each class carries a stable `code` (the `reason` label of
// skein_admissions_total); the message names what is wrong and how to fix it, because the API server shows
// it to the user verbatim ("admission webhook ... denied the request: <message>").

export type RejectReason =
  | 'port-conflict'
  | 'uid-conflict'
  | 'gid-conflict'
  | 'invalid-annotation'
  | 'unresolved-probe-port'
  | 'reserved-name'
  | 'invalid-pod';

export class InjectRejection extends Error {
  constructor(readonly code: RejectReason, message: string) {
    super(message);
    this.name = 'InjectRejection';
  }
}

/** The hint every rejection ends with: there is always a way out that needs no change to the app. */
export const OPT_OUT_HINT = 'or opt the pod out of the mesh with the pod label skein.io/inject: disabled';
