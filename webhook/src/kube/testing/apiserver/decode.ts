// From request body to typed object, as the create/update/patch handlers of
// staging/src/k8s.io/apiserver/pkg/endpoints/handlers (create.go, update.go, patch.go, rest.go) do it:
// - apiVersion/kind absent → the URL's (the decoder's defaultGVK); another kind → 400 (the scheme has no
//   such kind for that version); another apiVersion → 400 "the API version in the data (...) does not
//   match the expected API version (...)";
// - a decode error → 400 via transformDecodeError: `Lease in version "v1" cannot be handled as a Lease: <err>`
//   (this is the answer a millisecond MicroTime gets);
// - unknown fields → fieldValidation: Strict fails the request (400 "strict decoding error: ..."), Warn
//   (the default when the parameter is absent) answers with Warning headers, Ignore says nothing.
import { decodeInto, GoDecodeError } from './go-json.js';
import { apiVersionOf, type Kind } from './kinds.js';
import { badRequest, goString, invalidObject, notSupported, tooLong, invalid, type FieldError } from './status.js';
import type { Obj } from './validate-meta.js';

export type FieldValidation = 'Ignore' | 'Warn' | 'Strict';

export interface WriteParams {
  readonly fieldValidation: FieldValidation;
  readonly fieldManager: string;
  readonly dryRun: boolean;
}

/** Create/Update/PatchOptions from the query: metav1 validation.ValidateCreateOptions & co. */
export function writeParams(query: URLSearchParams, optionsKind: 'CreateOptions' | 'UpdateOptions' | 'PatchOptions'): WriteParams {
  const errs: FieldError[] = [];
  const fv = query.get('fieldValidation') ?? '';
  const allowed = ['Ignore', 'Strict', 'Warn'];
  if (fv !== '' && !allowed.includes(fv)) errs.push(notSupported('fieldValidation', goString(fv), allowed));
  const fm = query.get('fieldManager') ?? '';
  if (fm.length > 128) errs.push(tooLong('fieldManager', 128));
  // eslint-disable-next-line no-control-regex -- ValidateFieldManager: unicode.IsPrint on every rune
  if (/[\u0000-\u001f\u007f-\u009f]/.test(fm)) errs.push(invalid('fieldManager', goString(fm), 'must only contain printable characters'));
  const dry = query.getAll('dryRun');
  for (const d of dry) if (d !== 'All') errs.push(notSupported('dryRun', goString(d), ['All']));
  if (errs.length > 0) throw invalidObject({ group: 'meta.k8s.io', kind: optionsKind }, '', errs);
  return { fieldValidation: (fv === '' ? 'Warn' : fv) as FieldValidation, fieldManager: fm, dryRun: dry.includes('All') };
}

export interface DecodedBody { readonly object: Obj; readonly warnings: readonly string[] }

/**
 * Decodes a JSON request body (already parsed) into `kind`. `onDecodeError` turns the decoder's own
 * error into the Status: by default the create/update handlers' transformDecodeError (400).
 */
export function decodeObject(
  kind: Kind, body: unknown, fieldValidation: FieldValidation,
  onDecodeError: (e: GoDecodeError, version: string) => Error = (e, version) =>
    badRequest(`${kind.kind} in version ${JSON.stringify(version)} cannot be handled as a ${kind.kind}: ${e.message}`),
): DecodedBody {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw badRequest(`the object provided is unrecognized (must be of type ${kind.kind}): couldn't get version/kind; json parse error: json: cannot unmarshal ${Array.isArray(body) ? 'array' : typeof body} into Go value of type struct { APIVersion string "json:\\"apiVersion,omitempty\\""; Kind string "json:\\"kind,omitempty\\"" }`);
  }
  const b = body as Obj;
  const expected = apiVersionOf(kind);
  const apiVersion = typeof b.apiVersion === 'string' && b.apiVersion !== '' ? b.apiVersion : expected;
  const bodyKind = typeof b.kind === 'string' && b.kind !== '' ? b.kind : kind.kind;
  const version = apiVersion.includes('/') ? apiVersion.slice(apiVersion.indexOf('/') + 1) : apiVersion;
  if (bodyKind !== kind.kind) {
    throw badRequest(`${bodyKind} in version ${JSON.stringify(version)} cannot be handled as a ${kind.kind}: no kind ${JSON.stringify(bodyKind)} is registered for version ${JSON.stringify(apiVersion)} in scheme "pkg/api/legacyscheme/scheme.go:30"`);
  }
  if (apiVersion !== expected) {
    throw badRequest(`the API version in the data (${apiVersion}) does not match the expected API version (${expected})`);
  }
  try {
    const d = decodeInto(b, kind.schema);
    // Custom resources: the structural schema prunes what it does not list, reported like unknown fields.
    const strict = [...d.strict, ...(kind.prune?.(d.value as Obj) ?? [])];
    if (strict.length > 0 && fieldValidation === 'Strict') {
      throw badRequest(`${kind.kind} in version ${JSON.stringify(version)} cannot be handled as a ${kind.kind}: strict decoding error: ${strict.join(', ')}`);
    }
    return { object: d.value as Obj, warnings: fieldValidation === 'Warn' ? strict : [] };
  } catch (err) {
    if (err instanceof GoDecodeError) throw onDecodeError(err, version);
    throw err;
  }
}
