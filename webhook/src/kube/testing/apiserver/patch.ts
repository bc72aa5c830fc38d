// PATCH bodies, as staging/src/k8s.io/apiserver/pkg/endpoints/handlers/patch.go applies them: the
// current object is encoded, the patch applied to the JSON (JSON patch: gopkg.in/evanphx/json-patch.v4;
// merge patch: RFC 7386), and the result decoded and validated like an update. A patch that cannot be
// applied (a failed `test` op, a missing path) is 422 (NewGenericServerResponse); a patched document
// that no longer decodes is 422 Invalid with field "patch". Strategic merge and apply patches are not
// modelled (skein-cp sends only JSON patches): they are answered 500 so a test cannot pass by accident.
import fjp from 'fast-json-patch';
import { internalError, unprocessable, badRequest, unsupportedMediaType, requestTooLarge } from './status.js';
import type { Obj } from './validate-meta.js';

export const PATCH_TYPES = [
  'application/json-patch+json', 'application/merge-patch+json', 'application/strategic-merge-patch+json', 'application/apply-patch+yaml',
];

/** patch.go maxJSONPatchOperations. */
const MAX_JSON_PATCH_OPERATIONS = 10_000;

function applyJsonPatch(doc: Obj, body: unknown): Obj {
  if (!Array.isArray(body)) throw badRequest(`json: cannot unmarshal ${typeof body === 'object' && body !== null ? 'object' : typeof body} into Go value of type jsonpatch.Patch`);
  if (body.length > MAX_JSON_PATCH_OPERATIONS) throw requestTooLarge(`The allowed maximum operations in a JSON patch is ${MAX_JSON_PATCH_OPERATIONS}, got ${body.length}`);
  let out: Obj = structuredClone(doc);
  for (const raw of body as unknown[]) {
    const op = (raw ?? {}) as { op?: unknown; path?: unknown };
    const path = typeof op.path === 'string' ? op.path : '';
    try {
      out = fjp.applyOperation(out, structuredClone(raw) as fjp.Operation, true, true, true).newDocument;
    } catch (err) {
      const name = (err as { name?: string }).name ?? '';
      if (name === 'TEST_OPERATION_FAILED') throw unprocessable(`testing value ${path} failed: test failed`);
      if (name === 'OPERATION_PATH_UNRESOLVABLE') throw unprocessable(`${String(op.op)} operation does not apply: doc is missing path: ${JSON.stringify(path)}: missing value`);
      if (name === 'OPERATION_OP_INVALID') throw badRequest(`Unexpected kind: ${String(op.op)}`);
      throw unprocessable((err as Error).message);
    }
  }
  return out;
}

/** RFC 7386: null deletes, objects merge recursively, anything else replaces. */
function mergePatch(target: unknown, patch: unknown): unknown {
  if (typeof patch !== 'object' || patch === null || Array.isArray(patch)) return structuredClone(patch);
  const out: Record<string, unknown> = typeof target === 'object' && target !== null && !Array.isArray(target) ? { ...(target as Record<string, unknown>) } : {};
  for (const [k, v] of Object.entries(patch)) {
    if (v === null) delete out[k];
    else out[k] = mergePatch(out[k], v);
  }
  return out;
}

/** The patched JSON document (before decoding into the kind). */
export function applyPatch(contentType: string, doc: Obj, body: unknown): Obj {
  switch (contentType) {
    case 'application/json-patch+json': return applyJsonPatch(doc, body);
    case 'application/merge-patch+json': {
      const r = mergePatch(doc, body);
      if (typeof r !== 'object' || r === null || Array.isArray(r)) throw badRequest('merge patch must be a JSON object');
      return r as Obj;
    }
    case 'application/strategic-merge-patch+json': case 'application/apply-patch+yaml':
      throw internalError(`${contentType} is not modelled by the in-memory API server (skein-cp sends JSON patches)`);
    default:
      throw unsupportedMediaType(PATCH_TYPES);
  }
}
