// apply / delete / get / wait: talk to the daemon's socket API.
import type { LocalConfig } from '../config.js';
import { call } from '../client/api-client.js';
import type { ApplyResponse } from '../daemon/api-server.js';
import { NotFoundError, UsageError } from '../errors.js';
import { loadManifests } from '../manifests/load.js';
import type { Deployment, KubeObject, Pod } from '../model/types.js';
import { statePaths } from '../paths.js';
import { kindFromArg } from '../store/kinds.js';
import { formatTable, podStatusText } from './format.js';
import { POLICY_STATUS_KIND, withPolicyStatus } from './policy-status.js';

export async function applyOrDelete(cfg: LocalConfig, verb: 'apply' | 'delete', file: string | undefined, namespace: string | undefined,
  byName: string[] = []): Promise<number> {
  let objects: KubeObject[];
  if (!file && verb === 'delete' && byName.length === 2) {
    // `delete KIND NAME`, as kubectl: only kind, name and namespace matter for a delete.
    const kind = kindFromArg(byName[0]!);
    objects = [{ apiVersion: kind.apiVersions[0]!, kind: kind.kind, metadata: { name: byName[1]!, ...(kind.namespaced ? { namespace: namespace ?? 'default' } : {}) } }];
  } else if (!file) {
    throw new UsageError(`${verb} needs -f PATH (a YAML file or a directory of them)${verb === 'delete' ? ', or KIND NAME' : ''}`);
  } else {
    objects = await loadManifests(file);
  }
  // -n applies to objects that do not name a namespace, as with kubectl.
  for (const o of objects) if (namespace && !o.metadata.namespace && kindFromArg(o.kind).namespaced) o.metadata.namespace = namespace;
  const res = await call<ApplyResponse>(statePaths(cfg).apiSocket, 'POST', `/${verb}`, { objects });
  for (const r of res.results) console.log(`${r.kind.toLowerCase()}/${r.name} ${r.action}`);
  for (const e of res.errors) {
    const hint = e.code === 'E_NOT_FOUND' && verb === 'delete' && e.object ? ` (nothing to delete: see \`skein-local get ${e.object.split('/')[0]!.toLowerCase()}s -A\`)` : '';
    console.error(`Error from ${e.object ?? 'server'}: ${e.message}${hint}`);
  }
  return res.errors.length ? 1 : 0;
}

export async function list(cfg: LocalConfig, kindArg: string, name: string | undefined, namespace: string | undefined, selector?: string, all = false): Promise<KubeObject[]> {
  const kind = kindFromArg(kindArg);
  const q = new URLSearchParams({ kind: kind.kind, namespace: namespace ?? 'default' });
  if (name) q.set('name', name);
  if (selector) q.set('selector', selector);
  if (all) q.set('all', '1');
  const { items } = await call<{ items: KubeObject[] }>(statePaths(cfg).apiSocket, 'GET', `/objects?${q.toString()}`);
  // skein-cp's verdict on each TrafficPermission lives beside its state, not in the store (policy-status.ts).
  return kind.kind === POLICY_STATUS_KIND ? await withPolicyStatus(statePaths(cfg).cpDir, items) : items;
}

export async function get(cfg: LocalConfig, kindArg: string | undefined, name: string | undefined, o: { namespace?: string; output?: string; selector?: string; all?: boolean }): Promise<number> {
  if (!kindArg) throw new UsageError('get needs a KIND (pods, services, deployments, namespaces, …)');
  if (o.output && o.output !== 'wide' && o.output !== 'json') throw new UsageError(`-o ${o.output}: use -o json or -o wide`);
  const kind = kindFromArg(kindArg);
  const items = await list(cfg, kindArg, name, o.namespace, o.selector, o.all);
  if (name && items.length === 0) {
    const where = kind.namespaced ? ` in namespace "${o.namespace ?? 'default'}"` : '';
    throw new NotFoundError(`${kind.aliases[1]} "${name}" not found${where}: see \`skein-local get ${kind.aliases[1]}${kind.namespaced ? ` -n ${o.namespace ?? 'default'}` : ''}\``);
  }
  if (o.output === 'json') {
    console.log(JSON.stringify(name ? items[0] : { apiVersion: 'v1', kind: 'List', items }, null, 2));
    return 0;
  }
  if (items.length === 0) {
    console.log(kind.namespaced && !o.all ? `No resources found in ${o.namespace ?? 'default'} namespace.` : 'No resources found.');
    return 0;
  }
  console.log(formatTable(kind.kind, items, o.output === 'wide', !!o.all && kind.namespaced));
  return 0;
}

function parseDuration(s: string): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/.exec(s);
  if (!m) throw new UsageError(`--timeout ${s}: use a duration like 60s or 2m`);
  return Number(m[1]) * ({ ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[m[2] ?? 's'] ?? 1000);
}

const isReady = (p: Pod): boolean => (p.status?.conditions ?? []).some((c) => c.type === 'Ready' && c.status === 'True');

export async function wait(cfg: LocalConfig, kindArg: string | undefined, name: string | undefined,
  o: { namespace?: string; selector?: string; for?: string; timeout?: string }): Promise<number> {
  const kind = kindFromArg(kindArg ?? 'pod');
  const cond = o.for ?? 'ready';
  if (!['ready', 'completed'].includes(cond)) throw new UsageError(`--for ${cond}: use --for ready or --for completed`);
  if (!name && !o.selector) throw new UsageError('wait needs a NAME or -l key=value');
  if (kind.kind !== 'Pod' && kind.kind !== 'Deployment') throw new UsageError(`wait supports pods and deployments, not ${kind.kind}`);
  const ns = o.namespace ?? 'default';
  const deadline = Date.now() + parseDuration(o.timeout ?? '60s');
  let last: KubeObject[] = [];
  while (Date.now() < deadline) {
    last = await list(cfg, kind.kind, name, o.namespace, o.selector);
    if (kind.kind === 'Deployment') {
      const d = last[0] as (Deployment & { status?: { readyReplicas?: number } }) | undefined;
      if (d && (d.status?.readyReplicas ?? 0) >= (d.spec.replicas ?? 1)) { console.log(`deployment/${d.metadata.name} condition met`); return 0; }
    } else {
      const pods = last as Pod[];
      const failed = pods.find((p) => cond === 'completed' && p.status?.phase === 'Failed');
      if (failed) {
        console.error(`pod/${failed.metadata.name} in namespace ${ns} failed (${podStatusText(failed)}): it will not complete; ` +
          `see \`skein-local logs ${failed.metadata.name} -n ${ns}\``);
        return 1;
      }
      if (pods.length > 0 && pods.every((p) => (cond === 'ready' ? isReady(p) : p.status?.phase === 'Succeeded'))) {
        for (const p of pods) console.log(`pod/${p.metadata.name} condition met`);
        return 0;
      }
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  const what = last.map((p) => `${p.metadata.name}: ${p.kind === 'Pod' ? podStatusText(p as Pod) : 'not ready'}`).join(', ') || `no matching ${kind.kind.toLowerCase()} in namespace ${ns}`;
  const target = name ?? `-l ${o.selector}`;
  const look = kind.kind === 'Pod' && name
    ? `see \`skein-local get pod ${name} -n ${ns} -o json\` and \`skein-local logs ${name} -n ${ns}\``
    : `see \`skein-local get ${kind.kind === 'Pod' ? 'pods' : 'deployments'} -n ${ns}\``;
  console.error(`timed out after ${o.timeout ?? '60s'} waiting for ${cond} on ${kind.kind.toLowerCase()} ${target} (${what}): ${look}, or wait longer with --timeout`);
  return 1;
}
