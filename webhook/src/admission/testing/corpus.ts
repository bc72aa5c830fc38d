// Test support: turns workload manifests (Deployment, StatefulSet, DaemonSet, ReplicaSet, Job, CronJob, Pod)
// into the Pod the API server would see, named after the workload, as the injector golden tests need.
import { parseAllDocuments } from 'yaml';

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

function templateOf(doc: Obj): Obj {
  const spec = doc.spec as Obj;
  switch (doc.kind) {
    case 'CronJob': return ((spec.jobTemplate as Obj).spec as Obj).template as Obj;
    case 'Deployment': case 'StatefulSet': case 'DaemonSet': case 'ReplicaSet': case 'Job': return spec.template as Obj;
    default: throw new Error(`unsupported workload kind ${String(doc.kind)}`);
  }
}

export function podFromWorkload(doc: Obj): Obj {
  if (doc.kind === 'Pod') return { apiVersion: 'v1', ...doc };
  const meta = doc.metadata as Obj;
  const template = templateOf(doc);
  const namespace = meta.namespace ?? 'default';
  return { apiVersion: 'v1', kind: 'Pod', metadata: { ...(template.metadata as Obj | undefined), name: meta.name, namespace }, spec: template.spec };
}

/** YAML 1.1, as the API server reads manifests (`defaultMode: 0640` is octal). */
export function parseWorkloads(text: string): Obj[] {
  return parseAllDocuments(text, { version: '1.1' })
    .map((d) => {
      if (d.errors.length > 0) throw new Error(d.errors.map((e) => e.message).join('; '));
      return d.toJS() as unknown;
    })
    .filter(isObj);
}
