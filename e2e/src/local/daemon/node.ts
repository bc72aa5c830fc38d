// The node: API-server behaviour (defaulting, admission, naming, storing) plus kubelet (pod workers)
// and the controllers (Services, Deployments). Everything the socket API calls lands here.
import type { KeyObject } from 'node:crypto';
import { randomUUID } from 'node:crypto';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { join } from 'node:path';
import type { LocalConfig } from '../config.js';
import { admitPod } from '../admission/admit.js';
import { InvalidError, NotFoundError } from '../errors.js';
import type { Logger } from '../log.js';
import type { KubeObject, Pod, Service } from '../model/types.js';
import { gateway } from '../network/cidr.js';
import { allocatePodIPs, podIPsOf } from '../network/ipam.js';
import { clusterIPsFor } from '../services/cluster-ips.js';
import { clusterIPsOf } from '../services/endpoints.js';
import type { StatePaths } from '../paths.js';
import { PodWorker } from '../runtime/pod-worker.js';
import { commandContext, containerProcess, type CommandContext } from '../runtime/command.js';
import type { Lookup } from '../runtime/env.js';
import { ServiceController } from '../services/controller.js';
import type { Journal } from '../state/journal.js';
import { keyDataOf, normaliseKeyObject } from '../store/key-data.js';
import { kindInfo } from '../store/kinds.js';
import { checkMemoryVolumes } from '../volumes/tmpfs.js';
import { validateVolumes } from '../volumes/validate.js';
import { randomSuffix } from '../store/names.js';
import type { Store } from '../store/store.js';
import type { CaRootData } from './control-plane.js';
import { DeploymentController } from './deployments.js';
import { podNetNames } from '../network/pod-net.js';

export interface ApplyResult { kind: string; namespace?: string; name: string; action: 'created' | 'configured' | 'unchanged' | 'deleted' }

export const NODE_NAME = 'skein-local';
const SPEC_HASH = 'local.skein.io/applied-spec-hash';

export class LocalNode {
  readonly services: ServiceController;
  readonly deployments: DeploymentController;
  private readonly workers = new Map<string, PodWorker>();
  private caRoot: CaRootData = { 'root-cert.pem': '', 'control-plane-ca.pem': '' };

  constructor(readonly cfg: LocalConfig, readonly paths: StatePaths, readonly store: Store, readonly journal: Journal,
    readonly log: Logger, private readonly signingKey: KeyObject) {
    this.services = new ServiceController(cfg, store, log.child({ component: 'services' }), () =>
      [...this.workers.values()].map((w) => ({ pod: w.pod, ip: w.ip, ip6: w.ip6, netns: podNetNames(cfg, w.pod.metadata.uid!).netns })));
    this.deployments = new DeploymentController(this, log.child({ component: 'deployments' }));
    store.on('change', (e) => {
      if (e.object.kind === 'Pod' || e.object.kind === 'Service') this.services.schedule();
      if (e.object.kind === 'Pod') this.deployments.podChanged(e.object as Pod, e.type);
    });
  }

  /** Namespaces that always exist, and ConfigMap skein-ca-root in each. */
  bootstrap(caRoot: CaRootData): void {
    this.caRoot = caRoot;
    for (const ns of ['default', 'kube-system', 'skein-system']) {
      if (!this.store.get('Namespace', undefined, ns)) this.putNamespace({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } });
    }
  }

  async apply(objects: KubeObject[]): Promise<ApplyResult[]> {
    const out: ApplyResult[] = [];
    for (const o of objects) out.push(await this.applyOne(structuredClone(o)));
    return out;
  }

  async applyOne(o: KubeObject): Promise<ApplyResult> {
    const info = kindInfo(o.kind);
    if (!info) throw new InvalidError(`unknown kind "${o.kind}"`);
    if (info.namespaced) {
      o.metadata.namespace ??= 'default';
      this.requireNamespace(o.metadata.namespace);
    } else {
      delete o.metadata.namespace;
    }
    switch (o.kind) {
      case 'Namespace': return this.result(o, this.putNamespace(o));
      case 'Pod': return this.applyPod(o as Pod);
      case 'Deployment': return this.deployments.apply(o as never);
      case 'Service': return this.applyService(o as Service);
      case 'Secret': case 'ConfigMap': return this.result(o, this.putIfChanged(normaliseKeyObject(o)));
      default: return this.result(o, this.putIfChanged(o));
    }
  }

  async delete(objects: KubeObject[]): Promise<ApplyResult[]> {
    const out: ApplyResult[] = [];
    for (const o of objects) {
      const ns = kindInfo(o.kind)?.namespaced ? (o.metadata.namespace ?? 'default') : undefined;
      out.push(await this.deleteOne(o.kind, ns, o.metadata.name!));
    }
    return out;
  }

  async deleteOne(kind: string, ns: string | undefined, name: string): Promise<ApplyResult> {
    const obj = this.store.get(kind, ns, name);
    if (!obj) throw new NotFoundError(`${kind.toLowerCase()} "${name}" not found${ns ? ` in namespace "${ns}"` : ''}`);
    if (kind === 'Namespace') {
      if (['default', 'kube-system', 'skein-system'].includes(name)) throw new InvalidError(`namespace "${name}" cannot be deleted`);
      for (const k of ['Deployment', 'Pod', 'Service', 'ServiceAccount', 'ConfigMap', 'Secret', 'TrafficPermission']) {
        for (const x of this.store.list(k, name)) await this.deleteOne(k, name, x.metadata.name!);
      }
    }
    if (kind === 'Pod') await this.stopPod(ns!, name);
    // A Deployment leaves the store before its pods stop, so the controller does not replace them.
    this.store.delete(kind, ns, name);
    if (kind === 'Deployment') await this.deployments.remove(obj as never);
    return { kind, namespace: ns, name, action: 'deleted' };
  }

  /** Admits, names and stores a pod, then starts it. Used by apply and by the Deployment controller. */
  async createPod(input: Pod): Promise<Pod> {
    const ns = input.metadata.namespace ?? 'default';
    this.requireNamespace(ns);
    const pod = this.defaultPod(input, ns);
    const sa = pod.spec.serviceAccountName!;
    if (sa !== 'default' && !this.store.get('ServiceAccount', ns, sa)) {
      throw new InvalidError(`pod ${pod.metadata.name ?? pod.metadata.generateName}: serviceaccount "${sa}" not found in namespace "${ns}": apply it first`);
    }
    const nsObj = this.store.get('Namespace', undefined, ns)!;
    const admitted = (await admitPod({ repoRoot: this.cfg.repoRoot, cpJsonPath: this.paths.cpJson, webhookCaPath: this.paths.webhookCa, cpLogPath: this.paths.cpLog, log: this.log.child({ component: 'admission' }) },
      pod, nsObj.metadata.labels ?? {})).pod;
    checkRunnable(admitted, commandContext(this.cfg.repoRoot, this.paths));
    checkMemoryVolumes(admitted);
    validateVolumes(admitted);
    if (!admitted.metadata.name) admitted.metadata.name = `${admitted.metadata.generateName ?? 'pod-'}${randomSuffix()}`;
    if (this.store.get('Pod', ns, admitted.metadata.name)) throw new InvalidError(`pod "${admitted.metadata.name}" already exists in namespace "${ns}"`);
    admitted.metadata.uid = randomUUID();
    admitted.spec.nodeName = NODE_NAME;
    const addrs = allocatePodIPs(this.cfg, this.store.list<Pod>('Pod'));
    const { ip, ip6 } = addrs;
    admitted.status = { phase: 'Pending', podIP: ip, podIPs: podIPsOf(addrs), hostIP: gateway(this.cfg.podCidr) };
    const stored = this.store.put(admitted).object;
    const worker = new PodWorker({
      cfg: this.cfg, paths: this.paths, journal: this.journal, log: this.log.child({ component: 'kubelet' }),
      lookup: (n) => this.lookup(n), node: this.nodeFacts(), signingKey: this.signingKey, nodePath: process.execPath,
      hostsFor: (p, podIp, podIp6) => this.services.hostsFor(p, podIp, podIp6),
      onStatus: (p, status) => this.updatePodStatus(p, status),
    }, stored, ip, ip6);
    this.workers.set(`${ns}/${stored.metadata.name}`, worker);
    worker.start();
    return stored;
  }

  async shutdown(): Promise<void> {
    await Promise.all([...this.workers.keys()].map((k) => { const [ns, n] = k.split('/'); return this.stopPod(ns!, n!); }));
  }

  private async applyPod(o: Pod): Promise<ApplyResult> {
    const hash = specHash(o);
    if (o.metadata.name) {
      const prev = this.store.get<Pod>('Pod', o.metadata.namespace, o.metadata.name);
      if (prev) {
        if (prev.metadata.annotations?.[SPEC_HASH] === hash) return this.result(o, 'unchanged');
        throw new InvalidError(`pod "${o.metadata.name}" exists with a different spec: a pod's spec is immutable — delete it first`);
      }
    }
    o.metadata.annotations = { ...(o.metadata.annotations ?? {}) };
    const created = await this.createPod(o);
    // Recorded after admission so the webhook never sees it; lets a re-apply of the same file be a no-op.
    created.metadata.annotations = { ...(created.metadata.annotations ?? {}), [SPEC_HASH]: hash };
    this.store.put(created);
    return { kind: 'Pod', namespace: created.metadata.namespace, name: created.metadata.name!, action: 'created' };
  }

  private applyService(s: Service): ApplyResult {
    const prev = this.store.get<Service>('Service', s.metadata.namespace, s.metadata.name!);
    s.spec ??= {};
    const others = this.store.list<Service>('Service').filter((x) => x.metadata.namespace !== s.metadata.namespace || x.metadata.name !== s.metadata.name);
    const used = new Set(others.flatMap((x) => clusterIPsOf(x)));
    Object.assign(s.spec, clusterIPsFor(s, prev, this.cfg, used));
    s.spec.type ??= 'ClusterIP';
    s.spec.ports = (s.spec.ports ?? []).map((p) => ({ protocol: 'TCP', ...p, targetPort: p.targetPort ?? p.port }));
    return this.result(s, this.putIfChanged(s));
  }

  private putNamespace(o: KubeObject): 'created' | 'configured' | 'unchanged' {
    o.metadata.labels = { ...(o.metadata.labels ?? {}), 'kubernetes.io/metadata.name': o.metadata.name! };
    const action = this.putIfChanged(o);
    this.putCaRoot(o.metadata.name!);
    return action;
  }

  /** New trust anchors (a root rotation) or a new serving CA (skein-cp restarted): rewrites skein-ca-root everywhere. */
  setCaRoot(caRoot: CaRootData): void {
    if (JSON.stringify(caRoot) === JSON.stringify(this.caRoot)) return;
    this.caRoot = caRoot;
    for (const ns of this.store.list('Namespace')) this.putCaRoot(ns.metadata.name!);
  }

  /** What skein-cp's publisher does on a cluster: ConfigMap skein-ca-root in the namespace, kept equal to the current roots. */
  private putCaRoot(ns: string): void {
    const have = this.store.get<KubeObject & { data?: Record<string, string> }>('ConfigMap', ns, 'skein-ca-root');
    if (have && JSON.stringify(have.data) === JSON.stringify(this.caRoot)) return;
    this.store.put({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'skein-ca-root', namespace: ns, labels: { 'app.kubernetes.io/managed-by': 'skein-local' } }, data: { ...this.caRoot } });
  }

  private putIfChanged(o: KubeObject): 'created' | 'configured' | 'unchanged' {
    const prev = this.store.get(o.kind, o.metadata.namespace, o.metadata.name!);
    if (prev && specHash(prev) === specHash(o) && JSON.stringify(prev.metadata.labels ?? {}) === JSON.stringify(o.metadata.labels ?? {})) return 'unchanged';
    return this.store.put(o).created ? 'created' : 'configured';
  }

  private result(o: KubeObject, action: ApplyResult['action']): ApplyResult {
    return { kind: o.kind, namespace: o.metadata.namespace, name: o.metadata.name!, action };
  }

  private requireNamespace(ns: string): void {
    if (!this.store.get('Namespace', undefined, ns)) {
      throw new NotFoundError(`namespace "${ns}" not found: apply a Namespace named "${ns}" first (or earlier in the same file)`);
    }
  }

  private defaultPod(input: Pod, ns: string): Pod {
    const pod = structuredClone(input);
    pod.metadata.namespace = ns;
    delete pod.metadata.uid;
    pod.spec ??= { containers: [] };
    if (!Array.isArray(pod.spec.containers) || pod.spec.containers.length === 0) {
      throw new InvalidError(`pod ${pod.metadata.name ?? pod.metadata.generateName}: spec.containers must list at least one container`);
    }
    pod.spec.restartPolicy ??= 'Always';
    pod.spec.serviceAccountName ??= pod.spec.serviceAccount ?? 'default';
    pod.spec.serviceAccount = pod.spec.serviceAccountName;
    pod.spec.terminationGracePeriodSeconds ??= 30;
    pod.spec.dnsPolicy ??= 'ClusterFirst';
    pod.spec.schedulerName ??= 'default-scheduler';
    if (pod.spec.hostNetwork) throw new InvalidError(`pod ${pod.metadata.name}: hostNetwork pods are not supported by skein-local (they would run on the host)`);
    return pod;
  }

  private updatePodStatus(p: Pod, status: NonNullable<Pod['status']>): void {
    const ns = p.metadata.namespace ?? 'default';
    const current = this.store.get<Pod>('Pod', ns, p.metadata.name!);
    if (!current || current.metadata.uid !== p.metadata.uid) return;
    if (JSON.stringify(stripTimes(current.status)) === JSON.stringify(stripTimes(status))) return;
    for (const c of status.conditions ?? []) {
      const before = current.status?.conditions?.find((x) => x.type === c.type);
      if (before?.status === c.status && before.lastTransitionTime) c.lastTransitionTime = before.lastTransitionTime;
    }
    this.store.put({ ...current, status });
  }

  private async stopPod(ns: string, name: string): Promise<void> {
    const w = this.workers.get(`${ns}/${name}`);
    if (!w) return;
    await w.stop();
    this.workers.delete(`${ns}/${name}`);
  }

  private lookup(ns: string): Lookup {
    return (kind, name) => {
      const o = this.store.get(kind, ns, name);
      return o ? keyDataOf(o) : undefined;
    };
  }

  private nodeFacts(): { hostIP: string; cpuCores: number; memoryBytes: number } {
    return { hostIP: gateway(this.cfg.podCidr), cpuCores: cpus().length, memoryBytes: totalmem() };
  }
}

/** Refuses, at apply time, containers skein-local could not start (no command for a non-dataplane image). */
function checkRunnable(pod: Pod, commands: CommandContext): void {
  const name = pod.metadata.name ?? `${pod.metadata.generateName ?? ''}*`;
  for (const c of [...(pod.spec.initContainers ?? []), ...pod.spec.containers]) {
    const program = containerProcess(name, c, new Map(), commands).argv[0]!;
    if (!program.includes('$(') && !onHost(program)) {
      throw new InvalidError(`pod ${name}, container ${c.name}: "${program}" is not on this host${program.includes('/') ? '' : "'s PATH"} — skein-local runs host binaries: install it or change the command`);
    }
  }
}

function onHost(program: string): boolean {
  if (program.includes('/')) return existsSync(program);
  return (process.env.PATH ?? '').split(':').some((d) => d !== '' && existsSync(join(d, program)));
}

function specHash(o: KubeObject): string {
  const { metadata: _m, status: _s, ...rest } = o;
  return createHash('sha256').update(JSON.stringify(rest)).digest('hex').slice(0, 16);
}

function stripTimes(s: Pod['status']): unknown {
  if (!s) return s;
  return { ...s, conditions: (s.conditions ?? []).map((c) => ({ ...c, lastTransitionTime: undefined })) };
}

