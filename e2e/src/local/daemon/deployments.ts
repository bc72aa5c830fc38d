// Deployments: `replicas` pods named <deployment>-<pod-template-hash>-<suffix> (the webhook sees them
// without a name, as from a ReplicaSet). There is no ReplicaSet object: pods are owned by the Deployment.
// A template change creates the new pods first, then deletes the old ones (surge, not rolling one by one).
import { randomUUID } from 'node:crypto';
import type { Logger } from '../log.js';
import type { Deployment, Pod } from '../model/types.js';
import { matchesSelector } from '../admission/selectors.js';
import { InvalidError } from '../errors.js';
import { templateHash } from '../store/names.js';
import type { ApplyResult, LocalNode } from './node.js';

export class DeploymentController {
  private readonly pending = new Map<string, { deleted: boolean }>();

  constructor(private readonly node: LocalNode, private readonly log: Logger) {}

  /** Stores the Deployment once its first pods are admitted, so a webhook refusal fails the apply. */
  async apply(d: Deployment): Promise<ApplyResult> {
    const ns = d.metadata.namespace ?? 'default';
    validate(d);
    const prev = this.node.store.get<Deployment>('Deployment', ns, d.metadata.name!);
    d.spec.replicas ??= 1;
    d.metadata.uid = prev?.metadata.uid ?? randomUUID();
    const same = prev && JSON.stringify(prev.spec) === JSON.stringify(d.spec) && JSON.stringify(prev.metadata.labels ?? {}) === JSON.stringify(d.metadata.labels ?? {});
    if (same) return { kind: 'Deployment', namespace: ns, name: d.metadata.name!, action: 'unchanged' };
    await this.reconcile(d, true);
    const stored = this.node.store.put({ ...d, status: this.status(d) }).object;
    return { kind: 'Deployment', namespace: ns, name: stored.metadata.name!, action: prev ? 'configured' : 'created' };
  }

  async remove(d: Deployment): Promise<void> {
    for (const p of this.owned(d)) await this.node.deleteOne('Pod', p.metadata.namespace, p.metadata.name!);
  }

  podChanged(p: Pod, type: 'put' | 'delete'): void {
    const owner = p.metadata.ownerReferences?.find((o) => o.kind === 'Deployment');
    if (!owner) return;
    const ns = p.metadata.namespace ?? 'default';
    const key = `${ns}/${owner.name}`;
    // Events within 50 ms are handled once; a delete among them must still reconcile (a status
    // update followed by the pod's deletion used to keep the put's type, and no replacement came).
    const pending = this.pending.get(key);
    if (pending) {
      pending.deleted ||= type === 'delete';
      return;
    }
    const batch = { deleted: type === 'delete' };
    this.pending.set(key, batch);
    setTimeout(() => {
      this.pending.delete(key);
      const d = this.node.store.get<Deployment>('Deployment', ns, owner.name);
      if (!d) return;
      const run = batch.deleted ? this.reconcile(d, false) : Promise.resolve();
      void run.then(() => this.refreshStatus(d)).catch((err: Error) => this.log.error({ deployment: key, err: err.message }, 'reconcile failed'));
    }, 50);
  }

  private async reconcile(d: Deployment, firstApply: boolean): Promise<void> {
    const ns = d.metadata.namespace ?? 'default';
    const hash = templateHash(d.spec.template);
    const owned = this.owned(d);
    const current = owned.filter((p) => p.metadata.labels?.['pod-template-hash'] === hash);
    const want = d.spec.replicas ?? 1;
    for (let i = current.length; i < want; i++) {
      const tmpl = structuredClone(d.spec.template);
      const pod: Pod = {
        apiVersion: 'v1', kind: 'Pod',
        metadata: {
          ...(tmpl.metadata ?? {}), namespace: ns, generateName: `${d.metadata.name}-${hash}-`,
          labels: { ...(tmpl.metadata?.labels ?? {}), 'pod-template-hash': hash },
          ownerReferences: [{ apiVersion: 'apps/v1', kind: 'Deployment', name: d.metadata.name!, uid: d.metadata.uid ?? '', controller: true }],
        },
        spec: tmpl.spec,
      };
      delete pod.metadata.name;
      try {
        await this.node.createPod(pod);
      } catch (err) {
        if (firstApply) throw new InvalidError(`deployment "${d.metadata.name}": ${(err as Error).message}`);
        this.log.error({ deployment: d.metadata.name, err: (err as Error).message }, 'pod creation failed');
        return;
      }
    }
    for (const p of current.slice(want)) await this.node.deleteOne('Pod', ns, p.metadata.name!);
    for (const p of owned.filter((x) => x.metadata.labels?.['pod-template-hash'] !== hash)) await this.node.deleteOne('Pod', ns, p.metadata.name!);
  }

  private refreshStatus(d: Deployment): void {
    const cur = this.node.store.get<Deployment>('Deployment', d.metadata.namespace, d.metadata.name!);
    if (!cur) return;
    const status = this.status(cur);
    if (JSON.stringify(status) !== JSON.stringify(cur.status)) this.node.store.put({ ...cur, status });
  }

  private status(d: Deployment): Record<string, number> {
    const pods = this.owned(d);
    const hash = templateHash(d.spec.template);
    const ready = pods.filter((p) => (p.status?.conditions ?? []).some((c) => c.type === 'Ready' && c.status === 'True')).length;
    return {
      observedGeneration: 1, replicas: pods.length, updatedReplicas: pods.filter((p) => p.metadata.labels?.['pod-template-hash'] === hash).length,
      readyReplicas: ready, availableReplicas: ready,
    };
  }

  private owned(d: Deployment): Pod[] {
    return this.node.store.list<Pod>('Pod', d.metadata.namespace ?? 'default')
      .filter((p) => p.metadata.ownerReferences?.some((o) => o.kind === 'Deployment' && o.name === d.metadata.name));
  }
}

function validate(d: Deployment): void {
  const t = d.spec?.template;
  if (!t?.spec?.containers?.length) throw new InvalidError(`deployment "${d.metadata.name}": spec.template.spec.containers is empty`);
  if (d.spec.selector && !matchesSelector(d.spec.selector, t.metadata?.labels)) {
    throw new InvalidError(`deployment "${d.metadata.name}": spec.selector does not match spec.template.metadata.labels`);
  }
}
