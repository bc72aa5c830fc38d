// The admission HTTP app: POST /inject (AdmissionReview admission.k8s.io/v1) → injector decision → answer.
// May import ../injector, ../contract.js and libraries (express, pino types, prom-client via ./metrics); the TLS server that
// mounts this app belongs to skein-cp's server module. Every answer is logged once and counted with a reason;
// no input, however bad, crashes the process or puts a stack trace into a response.
import express, { type NextFunction, type Request, type Response } from 'express';
import type { Logger } from 'pino';
import { WEBHOOK_PATH } from '../contract.js';
import type { InjectorConfig } from '../injector/index.js';
import { parseJsonBody } from './body.js';
import {
  AdmissionHttpError, BadRequestError, MethodNotAllowedError, NotFoundError, PayloadTooLargeError, UnsupportedMediaTypeError,
} from './errors.js';
import { answerReview } from './handler.js';
import type { AdmissionMetrics } from './metrics.js';

export { AdmissionMetrics, type AdmissionOutcome } from './metrics.js';
export { AdmissionHttpError } from './errors.js';
export { answerReview, type ReviewOutcome } from './handler.js';
export { podPatch } from './patch.js';
export { REVIEW_API_VERSION, type AdmissionRequest, type AdmissionResponse } from './review.js';

export interface AdmissionOptions {
  injector: InjectorConfig;
  logger: Logger;
  metrics: AdmissionMetrics;
}

/** The API server sends at most ~3 MiB objects (etcd's 1.5 MiB limit, JSON twice); checked before parsing. */
export const MAX_BODY_BYTES = 3 * 1024 * 1024;

const startedAt = new WeakMap<Request, bigint>();
const secondsSince = (req: Request): number => Number(process.hrtime.bigint() - (startedAt.get(req) ?? process.hrtime.bigint())) / 1e9;

function requireJson(req: Request, _res: Response, next: NextFunction): void {
  const type = req.headers['content-type'];
  const mediaType = type?.split(';')[0]?.trim().toLowerCase();
  if (mediaType !== 'application/json') throw new UnsupportedMediaTypeError(type);
  next();
}

/** Errors of body-parser (`type` set) become our errors; anything else is an internal error. */
function toHttpError(err: unknown): AdmissionHttpError | undefined {
  if (err instanceof AdmissionHttpError) return err;
  const type = (err as { type?: unknown } | null)?.type;
  if (type === 'entity.too.large') return new PayloadTooLargeError(MAX_BODY_BYTES);
  if (type === 'encoding.unsupported') {
    return new AdmissionHttpError(415, 'UnsupportedEncoding', 'Content-Encoding is not supported; send the body uncompressed');
  }
  if (typeof type === 'string') return new BadRequestError('UnreadableBody', 'request body could not be read (aborted or length mismatch)');
  return undefined;
}

export function createAdmissionApp(opts: AdmissionOptions): express.Express {
  const log = opts.logger.child({ component: 'admission' });
  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);
  app.use((req, _res, next) => { startedAt.set(req, process.hrtime.bigint()); next(); });

  // inflate: false — a compressed body would defeat the size cap (zip bomb); the API server never compresses.
  const rawBody = express.raw({ type: () => true, limit: MAX_BODY_BYTES, inflate: false });
  app.post(WEBHOOK_PATH, requireJson, rawBody, (req: Request, res: Response) => {
    const outcome = answerReview(parseJsonBody(req.body), opts.injector);
    const seconds = secondsSince(req);
    opts.metrics.record(outcome.decision, outcome.reason, seconds);
    const { uid, namespace, pod, ...rest } = outcome.context;
    log.child({ uid, namespace, pod }).info(
      { ...rest, decision: outcome.decision, reason: outcome.reason, durationMs: seconds * 1e3 }, 'admission answered');
    res.status(200).json(outcome.review);
  });
  app.all(WEBHOOK_PATH, (req: Request) => { throw new MethodNotAllowedError(req.method); });
  app.use((req: Request) => { throw new NotFoundError(req.path); });

  // Express 5 needs all four parameters to recognise an error handler.
  app.use((err: unknown, req: Request, res: Response, _next: NextFunction) => {
    const httpErr = toHttpError(err);
    const status = httpErr?.status ?? 500;
    const code = httpErr?.code ?? 'Internal';
    const message = httpErr?.message ?? 'internal error while answering the admission request; see the skein-cp log';
    const seconds = secondsSince(req);
    opts.metrics.record('error', code, seconds);
    const fields = { method: req.method, path: req.path.slice(0, 200), status, code, durationMs: seconds * 1e3 };
    if (httpErr === undefined) log.error({ ...fields, err }, 'admission failed');
    else log.warn({ ...fields, message }, 'admission request refused');
    if (res.headersSent) return;
    if (status === 405) res.setHeader('Allow', 'POST');
    res.status(status).json({ error: { code, message } });
  });
  return app;
}
