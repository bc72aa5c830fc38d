// One AdmissionReview round trip to skein-cp over HTTPS, trusting the CA it wrote to its state dir.
import { randomUUID } from 'node:crypto';
import { request } from 'node:https';
import type { KubeObject } from '../model/types.js';

export interface ReviewTarget { port: number; host: string; ca: string; path: string; timeoutMs: number }

export interface ReviewResponse {
  uid: string;
  allowed: boolean;
  status?: { message?: string; code?: number };
  patch?: string;
  patchType?: string;
}

export function buildReview(pod: KubeObject, namespace: string): object {
  return {
    apiVersion: 'admission.k8s.io/v1',
    kind: 'AdmissionReview',
    request: {
      uid: randomUUID(),
      kind: { group: '', version: 'v1', kind: 'Pod' },
      resource: { group: '', version: 'v1', resource: 'pods' },
      requestKind: { group: '', version: 'v1', kind: 'Pod' },
      requestResource: { group: '', version: 'v1', resource: 'pods' },
      name: pod.metadata.name ?? '',
      namespace,
      operation: 'CREATE',
      userInfo: { username: 'system:serviceaccount:kube-system:replicaset-controller', groups: ['system:serviceaccounts', 'system:authenticated'] },
      object: pod,
      oldObject: null,
      dryRun: false,
      options: { apiVersion: 'meta.k8s.io/v1', kind: 'CreateOptions' },
    },
  };
}

/** POSTs the review; resolves with the response part or rejects with a network/protocol error. */
export function postReview(t: ReviewTarget, review: object): Promise<ReviewResponse> {
  const body = Buffer.from(JSON.stringify(review));
  return new Promise((resolvePromise, reject) => {
    const req = request({
      host: t.host, port: t.port, path: t.path, method: 'POST', ca: t.ca, servername: 'localhost',
      headers: { 'content-type': 'application/json', 'content-length': body.length },
      timeout: t.timeoutMs,
    }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        if (res.statusCode !== 200) { reject(new Error(`HTTP ${res.statusCode}: ${text.slice(0, 300)}`)); return; }
        try {
          const parsed = JSON.parse(text) as { response?: ReviewResponse };
          if (!parsed.response) { reject(new Error('AdmissionReview without a response')); return; }
          resolvePromise(parsed.response);
        } catch (err) {
          reject(new Error(`unparseable AdmissionReview: ${(err as Error).message}`));
        }
      });
    });
    req.on('timeout', () => req.destroy(new Error(`no answer within ${t.timeoutMs} ms`)));
    req.on('error', reject);
    req.end(body);
  });
}
