// Admission of a pod create, as the API server does it: pick the webhook entry by selectors, send the
// AdmissionReview to skein-cp, apply the returned JSONPatch. Refusals and an unreachable webhook with
// failurePolicy Fail become AdmissionErrors that fail the apply.
import { readFile } from 'node:fs/promises';
import jsonpatch from 'fast-json-patch';
import type { Operation } from 'fast-json-patch';
import { AdmissionError } from '../errors.js';
import type { Logger } from '../log.js';
import type { Pod } from '../model/types.js';
import { buildReview, postReview } from './review.js';
import { loadWebhookEntries, selectWebhook } from './webhook-config.js';

export interface ControlPlaneInfo { webhookPort: number; grpcPort: number; healthPort: number; bindAddress?: string; pid?: number }

export interface AdmitContext {
  repoRoot: string;
  cpJsonPath: string;
  webhookCaPath: string;
  cpLogPath: string;
  log: Logger;
}

export interface AdmitResult { pod: Pod; webhook?: string; patched: boolean }

export async function readControlPlaneInfo(cpJsonPath: string): Promise<ControlPlaneInfo> {
  return JSON.parse(await readFile(cpJsonPath, 'utf8')) as ControlPlaneInfo;
}

export async function admitPod(ctx: AdmitContext, pod: Pod, nsLabels: Record<string, string>): Promise<AdmitResult> {
  const ns = pod.metadata.namespace ?? 'default';
  const entries = await loadWebhookEntries(ctx.repoRoot);
  const entry = selectWebhook(entries, nsLabels, pod.metadata.labels);
  const who = pod.metadata.name ?? `${pod.metadata.generateName ?? ''}*`;
  if (!entry) return { pod, patched: false };
  const log = ctx.log.child({ webhook: entry.name, ns, pod: who });
  let response;
  try {
    const cp = await readControlPlaneInfo(ctx.cpJsonPath);
    const ca = await readFile(ctx.webhookCaPath, 'utf8');
    const host = cp.bindAddress && cp.bindAddress !== '0.0.0.0' ? cp.bindAddress : '127.0.0.1';
    response = await postReview({ host, port: cp.webhookPort, ca, path: entry.path, timeoutMs: entry.timeoutSeconds * 1000 }, buildReview(pod, ns));
  } catch (err) {
    const msg = `calling webhook "${entry.name}" for pod ${ns}/${who} failed: ${(err as Error).message}`;
    if (entry.failurePolicy === 'Ignore') {
      log.warn({ err: (err as Error).message }, 'webhook unreachable, failurePolicy Ignore: admitting unchanged');
      return { pod, webhook: entry.name, patched: false };
    }
    throw new AdmissionError(`${msg}; failurePolicy is Fail, so the pod is refused: check that skein-cp is running (log: ${ctx.cpLogPath})`);
  }
  if (!response.allowed) {
    throw new AdmissionError(`admission webhook "${entry.name}" denied the request: ${response.status?.message ?? 'no reason given'}`);
  }
  if (!response.patch) {
    log.info('admitted without changes');
    return { pod, webhook: entry.name, patched: false };
  }
  if (response.patchType && response.patchType !== 'JSONPatch') {
    throw new AdmissionError(`webhook "${entry.name}" returned patchType ${response.patchType}; only JSONPatch is supported`);
  }
  let ops: Operation[];
  try {
    ops = JSON.parse(Buffer.from(response.patch, 'base64').toString('utf8')) as Operation[];
  } catch (err) {
    throw new AdmissionError(`webhook "${entry.name}" returned a patch that is not base64 JSON: ${(err as Error).message}`);
  }
  try {
    // validate=true rejects malformed operations; prototype-pollution paths are banned by default.
    const patched = jsonpatch.applyPatch(structuredClone(pod), ops, true, false).newDocument;
    log.info({ ops: ops.length }, 'admitted with patch');
    return { pod: patched, webhook: entry.name, patched: true };
  } catch (err) {
    throw new AdmissionError(`webhook "${entry.name}" returned a patch that does not apply: ${(err as Error).message}`);
  }
}
