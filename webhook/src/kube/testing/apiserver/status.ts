// The errors kube-apiserver answers with: metav1.Status bodies built as apimachinery's
// pkg/api/errors/errors.go builds them (NewNotFound, NewAlreadyExists, NewConflict, NewInvalid,
// NewBadRequest, ...), and field errors formatted as pkg/util/validation/field/errors.go formats them
// (Error(), ErrorBody(), ToAggregate()). skein-cp reads only the code, but the reason, message and
// causes are what an operator sees in its logs, so they follow the real text.

export type FieldErrorType =
  | 'FieldValueRequired' | 'FieldValueInvalid' | 'FieldValueForbidden' | 'FieldValueTooLong'
  | 'FieldValueDuplicate' | 'FieldValueNotSupported';

const TYPE_TEXT: Record<FieldErrorType, string> = {
  FieldValueRequired: 'Required value',
  FieldValueInvalid: 'Invalid value',
  FieldValueForbidden: 'Forbidden',
  FieldValueTooLong: 'Too long',
  FieldValueDuplicate: 'Duplicate value',
  FieldValueNotSupported: 'Unsupported value',
};

/** A bad value as Go's %v / %q / %#v prints it in ErrorBody (a uint64 resourceVersion 0 prints as 0x0). */
export type BadValue = { readonly go: string };
export const goString = (s: string): BadValue => ({ go: JSON.stringify(s) });
export const goInt = (n: number): BadValue => ({ go: String(n) });
export const goRaw = (text: string): BadValue => ({ go: text });

export interface FieldError {
  readonly type: FieldErrorType;
  readonly field: string;
  readonly badValue?: BadValue;
  readonly detail: string;
}

export const required = (field: string, detail = ''): FieldError => ({ type: 'FieldValueRequired', field, detail });
export const invalid = (field: string, badValue: BadValue, detail: string): FieldError => ({ type: 'FieldValueInvalid', field, badValue, detail });
export const forbidden = (field: string, detail: string): FieldError => ({ type: 'FieldValueForbidden', field, detail });
export const tooLong = (field: string, max: number): FieldError => ({ type: 'FieldValueTooLong', field, detail: `must have at most ${max} bytes` });
export const duplicate = (field: string, badValue: BadValue): FieldError => ({ type: 'FieldValueDuplicate', field, badValue, detail: '' });
export const notSupported = (field: string, badValue: BadValue, supported: readonly string[]): FieldError => ({
  type: 'FieldValueNotSupported', field, badValue, detail: `supported values: ${supported.map((s) => JSON.stringify(s)).join(', ')}`,
});

/** field.Error.ErrorBody(): Required/Forbidden/TooLong print no value. */
export function errorBody(e: FieldError): string {
  let s = TYPE_TEXT[e.type];
  if (e.badValue !== undefined && e.type !== 'FieldValueRequired' && e.type !== 'FieldValueForbidden' && e.type !== 'FieldValueTooLong') {
    s += `: ${e.badValue.go}`;
  }
  return e.detail === '' ? s : `${s}: ${e.detail}`;
}

/** field.ErrorList.ToAggregate().Error(): one message alone, several as "[a, b]" (duplicates dropped). */
export function aggregate(errs: readonly FieldError[]): string {
  const msgs = [...new Set(errs.map((e) => `${e.field}: ${errorBody(e)}`))];
  return msgs.length === 1 ? (msgs[0] ?? '') : `[${msgs.join(', ')}]`;
}

export interface StatusCause { readonly reason?: string; readonly message: string; readonly field?: string }
export interface StatusDetails {
  readonly name?: string;
  readonly group?: string;
  readonly kind?: string;
  readonly causes?: readonly StatusCause[];
}
export interface Status {
  readonly kind: 'Status';
  readonly apiVersion: 'v1';
  readonly metadata: Record<string, never>;
  readonly status: 'Failure';
  readonly message: string;
  readonly reason: string;
  readonly details?: StatusDetails;
  readonly code: number;
}

/** Thrown by the model, written as the response by the HTTP layer. */
export class ApiStatusError extends Error {
  constructor(readonly status: Status) {
    super(status.message);
    this.name = 'ApiStatusError';
  }
}

export interface GroupResource { readonly group: string; readonly resource: string }
export interface GroupKind { readonly group: string; readonly kind: string }

/** schema.GroupResource.String() / GroupKind.String(): "leases.coordination.k8s.io", "secrets". */
const qualified = (name: string, group: string): string => (group === '' ? name : `${name}.${group}`);

function fail(code: number, reason: string, message: string, details?: StatusDetails): ApiStatusError {
  return new ApiStatusError({ kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message, reason, ...(details ? { details } : {}), code });
}

const resourceDetails = (gr: GroupResource, name: string): StatusDetails => ({ name, ...(gr.group ? { group: gr.group } : {}), kind: gr.resource });

export const notFound = (gr: GroupResource, name: string): ApiStatusError =>
  fail(404, 'NotFound', `${qualified(gr.resource, gr.group)} ${JSON.stringify(name)} not found`, resourceDetails(gr, name));

export const alreadyExists = (gr: GroupResource, name: string): ApiStatusError =>
  fail(409, 'AlreadyExists', `${qualified(gr.resource, gr.group)} ${JSON.stringify(name)} already exists`, resourceDetails(gr, name));

/** registry/generic/registry/store.go OptimisticLockErrorMsg. */
export const OPTIMISTIC_LOCK_MSG = 'the object has been modified; please apply your changes to the latest version and try again';

export const conflict = (gr: GroupResource, name: string, why = OPTIMISTIC_LOCK_MSG): ApiStatusError =>
  fail(409, 'Conflict', `Operation cannot be fulfilled on ${qualified(gr.resource, gr.group)} ${JSON.stringify(name)}: ${why}`, resourceDetails(gr, name));

export const invalidObject = (gk: GroupKind, name: string, errs: readonly FieldError[]): ApiStatusError =>
  fail(422, 'Invalid', `${qualified(gk.kind, gk.group)} ${JSON.stringify(name)} is invalid: ${aggregate(errs)}`, {
    name, ...(gk.group ? { group: gk.group } : {}), kind: gk.kind,
    causes: errs.map((e) => ({ reason: e.type, message: errorBody(e), field: e.field })),
  });

/** A JSON patch that cannot be applied (a failed `test` op): NewGenericServerResponse(422, ...) in patch.go. */
export const unprocessable = (message: string): ApiStatusError => fail(422, 'Invalid', message);

export const badRequest = (message: string): ApiStatusError => fail(400, 'BadRequest', message);

export const requestTooLarge = (message: string): ApiStatusError => fail(413, 'RequestEntityTooLarge', `Request entity too large: ${message}`);

export const unauthorized = (): ApiStatusError => fail(401, 'Unauthorized', 'Unauthorized');

export const methodNotAllowed = (): ApiStatusError =>
  fail(405, 'MethodNotAllowed', 'the server does not allow this method on the requested resource');

export const unsupportedMediaType = (accepted: readonly string[]): ApiStatusError =>
  fail(415, 'UnsupportedMediaType', `the body of the request was in an unknown format - accepted media types include: ${accepted.join(', ')}`);

export const internalError = (message: string): ApiStatusError =>
  fail(500, 'InternalError', `Internal error occurred: ${message}`, { causes: [{ message }] });

export const pathNotFound = (): ApiStatusError => fail(404, 'NotFound', 'the server could not find the requested resource', {});
