// HTTP-level failures of the admission endpoint, one class per failure with a stable `code`, mapped to a
// response in one place (index.ts). These are requests that are not a usable AdmissionReview at all; a pod the
// injector refuses is not an error here but an `allowed: false` review.
import { WEBHOOK_PATH } from '../contract.js';

export class AdmissionHttpError extends Error {
  constructor(readonly status: number, readonly code: string, message: string) {
    super(message);
    this.name = 'AdmissionHttpError';
  }
}

export class BadRequestError extends AdmissionHttpError {
  constructor(code: string, message: string) { super(400, code, message); }
}

export class UnsupportedMediaTypeError extends AdmissionHttpError {
  constructor(got: string | undefined) {
    super(415, 'UnsupportedMediaType', `Content-Type must be application/json (got ${got === undefined ? 'none' : JSON.stringify(got)})`);
  }
}

export class PayloadTooLargeError extends AdmissionHttpError {
  constructor(limitBytes: number) {
    super(413, 'PayloadTooLarge', `request body is larger than ${limitBytes} bytes; an AdmissionReview of one pod is far smaller`);
  }
}

export class MethodNotAllowedError extends AdmissionHttpError {
  constructor(method: string) { super(405, 'MethodNotAllowed', `${method} is not allowed on ${WEBHOOK_PATH}; use POST`); }
}

export class NotFoundError extends AdmissionHttpError {
  constructor(path: string) { super(404, 'NotFound', `no such endpoint ${JSON.stringify(path.slice(0, 200))}; the webhook serves POST ${WEBHOOK_PATH}`); }
}
