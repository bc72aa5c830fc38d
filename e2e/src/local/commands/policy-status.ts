// The status of TrafficPermissions in local mode: skein-cp writes each one's validation (conditions
// Valid and Accepted, webhook/src/policy/status-local.ts) to <cpDir>/status/TrafficPermission/<ns>/<name>.json,
// because skein-local's store holds what was applied and nothing else writes to it. `get` shows the
// objects with that status merged in, as `kubectl get` shows the status a controller wrote.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { KubeObject } from '../model/types.js';

export const POLICY_STATUS_KIND = 'TrafficPermission';

export const policyStatusFile = (cpDir: string, namespace: string, name: string): string =>
  join(cpDir, 'status', POLICY_STATUS_KIND, namespace, `${name}.json`);

/** `items` with each TrafficPermission's status from skein-cp's file, where there is one (others as they are). */
export async function withPolicyStatus(cpDir: string, items: KubeObject[]): Promise<KubeObject[]> {
  return await Promise.all(items.map(async (o) => {
    if (o.kind !== POLICY_STATUS_KIND || !o.metadata.namespace || !o.metadata.name) return o;
    try {
      const status = JSON.parse(await readFile(policyStatusFile(cpDir, o.metadata.namespace, o.metadata.name), 'utf8')) as unknown;
      return typeof status === 'object' && status !== null ? { ...o, status } : o;
    } catch {
      return o; // not judged yet (skein-cp not running, or it has not seen the object)
    }
  }));
}
