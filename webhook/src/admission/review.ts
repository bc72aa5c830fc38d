// The AdmissionReview (admission.k8s.io/v1) envelope: reading a request out of it with every field checked,
// and writing the response the API server expects (same uid, base64 JSONPatch).
import { BadRequestError } from './errors.js';

export const REVIEW_API_VERSION = 'admission.k8s.io/v1';

export interface GroupVersionKind { group: string; version: string; kind: string }

export interface AdmissionRequest {
  uid: string;
  kind: GroupVersionKind;
  subResource: string | undefined;
  namespace: string | undefined;
  operation: string;
  object: unknown;
  dryRun: boolean;
}

export interface AdmissionResponse {
  uid: string;
  allowed: boolean;
  patchType?: 'JSONPatch';
  patch?: string;
  status?: { status: 'Failure'; code: number; reason: string; message: string };
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function bad(message: string): BadRequestError {
  return new BadRequestError('InvalidAdmissionReview', `${message}; expected an AdmissionReview (${REVIEW_API_VERSION}) with a request`);
}

function readKind(v: unknown): GroupVersionKind {
  if (!isRecord(v) || typeof v.group !== 'string' || typeof v.version !== 'string' || typeof v.kind !== 'string') {
    throw bad('request.kind must be {group, version, kind}');
  }
  return { group: v.group, version: v.version, kind: v.kind };
}

function optionalString(v: unknown, field: string): string | undefined {
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'string') throw bad(`${field} must be a string`);
  return v;
}

export function readRequest(body: unknown): AdmissionRequest {
  if (!isRecord(body)) throw bad('request body is not a JSON object');
  if (body.kind !== 'AdmissionReview') throw bad(`kind is ${JSON.stringify(body.kind ?? null)}`);
  if (body.apiVersion !== REVIEW_API_VERSION) {
    throw new BadRequestError('UnsupportedVersion',
      `apiVersion ${JSON.stringify(body.apiVersion ?? null)} is not supported; set admissionReviewVersions: ["v1"] in the webhook configuration`);
  }
  const req = body.request;
  if (!isRecord(req)) throw bad('request is missing');
  if (typeof req.uid !== 'string' || req.uid === '') throw bad('request.uid is missing');
  if (typeof req.operation !== 'string') throw bad('request.operation is missing');
  if (req.dryRun !== undefined && req.dryRun !== null && typeof req.dryRun !== 'boolean') throw bad('request.dryRun must be a boolean');
  return {
    uid: req.uid,
    kind: readKind(req.kind),
    subResource: optionalString(req.subResource, 'request.subResource'),
    namespace: optionalString(req.namespace, 'request.namespace'),
    operation: req.operation,
    object: req.object,
    dryRun: req.dryRun === true,
  };
}

export function reviewOf(response: AdmissionResponse): { apiVersion: string; kind: 'AdmissionReview'; response: AdmissionResponse } {
  return { apiVersion: REVIEW_API_VERSION, kind: 'AdmissionReview', response };
}
