// From a verified token's claims to a WorkloadIdentity: the service account username, the names it may
// contain, the SPIFFE ID built from them, and the check that the bound pod is still the one the token
// names. Shared by the local (JWT) and the Kubernetes (TokenReview) verifier.
import { CertifyRefusal } from '../errors.js';
import type { PodLookup, WorkloadIdentity } from '../types.js';

export const DEFAULT_AUDIENCE = 'skein-cp';

const DNS1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const DNS1123_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

/**
 * Namespace: a DNS-1123 label; service account: a DNS-1123 subdomain (what the API server enforces).
 * Checked again here because the names go into a SPIFFE ID, where `/`, `%`, `..` or upper case would
 * make an ID that peers refuse or, worse, one that parses as another.
 */
export function checkNames(namespace: string, serviceAccount: string): void {
  if (namespace.length > 63 || !DNS1123_LABEL.test(namespace)) throw new CertifyRefusal('not_service_account', `the token's namespace ${JSON.stringify(namespace)} is not a Kubernetes namespace name`);
  if (serviceAccount.length > 253 || !DNS1123_SUBDOMAIN.test(serviceAccount)) {
    throw new CertifyRefusal('not_service_account', `the token's service account ${JSON.stringify(serviceAccount)} is not a Kubernetes service account name`);
  }
}

/** `system:serviceaccount:<ns>:<sa>` → its parts (apiserver serviceaccount.SplitUsername). */
export function parseServiceAccountUsername(username: unknown): { namespace: string; serviceAccount: string } {
  const m = typeof username === 'string' ? /^system:serviceaccount:([^:]+):([^:]+)$/.exec(username) : null;
  if (!m) {
    throw new CertifyRefusal('not_service_account', `the token is for ${JSON.stringify(username)}, not a service account (system:serviceaccount:<namespace>:<name>); send the pod's projected service account token`);
  }
  const namespace = m[1] ?? '';
  const serviceAccount = m[2] ?? '';
  checkNames(namespace, serviceAccount);
  return { namespace, serviceAccount };
}

export function spiffeIdOf(trustDomain: string, namespace: string, serviceAccount: string): string {
  return `spiffe://${trustDomain}/ns/${namespace}/sa/${serviceAccount}`;
}

/**
 * The pod a bound token names must exist now, with the UID in the token (a pod deleted and re-created
 * under the same name has another UID: its old token must not get the new pod a certificate), and run
 * as the token's service account.
 */
export async function checkBoundPod(pods: PodLookup, id: { namespace: string; serviceAccount: string }, pod: { name: string; uid: string }): Promise<void> {
  const found = await pods(id.namespace, pod.name);
  if (found === undefined) {
    throw new CertifyRefusal('unknown_pod', `the token is bound to pod ${id.namespace}/${pod.name}, which does not exist (deleted, or not seen by skein-cp yet); a new pod gets a new token: retry from the new pod`);
  }
  if (found.uid !== pod.uid) {
    throw new CertifyRefusal('replaced_pod', `the token is bound to pod ${id.namespace}/${pod.name} with UID ${pod.uid}, but that pod now has UID ${found.uid} (it was re-created): the token belongs to the old pod`);
  }
  if (found.serviceAccount !== id.serviceAccount) {
    throw new CertifyRefusal('not_service_account', `pod ${id.namespace}/${pod.name} runs as service account ${JSON.stringify(found.serviceAccount)}, not ${JSON.stringify(id.serviceAccount)} as the token says`);
  }
}

export function identityOf(trustDomain: string, id: { namespace: string; serviceAccount: string }, pod: { name: string; uid: string } | undefined): WorkloadIdentity {
  return {
    namespace: id.namespace,
    serviceAccount: id.serviceAccount,
    spiffeId: spiffeIdOf(trustDomain, id.namespace, id.serviceAccount),
    ...(pod !== undefined ? { pod } : {}),
  };
}
