// PodLookup (identity/types.ts) over a cluster source's state: the token checks ask whether the pod a
// token names still exists with that UID without a request to the API server per Certify call.
import type { PodLookup } from '../identity/types.js';
import { podIps, podServiceAccount } from './snapshot.js';
import { objectKey, type ClusterSource } from './types.js';

export function podLookupFrom(source: ClusterSource): PodLookup {
  return async (namespace, name) => {
    const pod = source.state().pods.get(objectKey(namespace, name));
    if (!pod) return undefined;
    return { uid: pod.metadata?.uid ?? '', podIPs: podIps(pod), serviceAccount: podServiceAccount(pod) };
  };
}
