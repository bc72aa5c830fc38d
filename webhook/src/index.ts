// Public surface of @skein/webhook (skein-cp) for its siblings (e2e, skein-local). Re-exports only; each
// module's own index.ts says what it may import.
export * from './injector/index.js';
export {
  AdmissionMetrics, AdmissionHttpError, MAX_BODY_BYTES, REVIEW_API_VERSION, answerReview, createAdmissionApp, podPatch,
  type AdmissionOptions, type AdmissionOutcome, type AdmissionRequest, type AdmissionResponse, type ReviewOutcome,
} from './admission/index.js';
