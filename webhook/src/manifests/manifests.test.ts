// The kustomize base (manifests/) as the API server would see it: every object
// valid for its kind, and the facts other parts of Skein depend on (webhook
// selectors and settings, least-privilege RBAC, the control-plane Deployment).
import { describe as suite, it, before } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { loadKustomization, gvk, describe, UnsupportedKustomizationError, type ManifestObject } from './kustomize.js';
import { validateWithModel, UnknownKindError } from './models.js';
import { MANIFESTS_DIR } from './paths.js';

type Obj = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any -- test access into parsed YAML

let objects: ManifestObject[] = [];
function find(kind: string, name: string): Obj {
  const m = objects.find((o) => o.object.kind === kind && (o.object.metadata as Obj | undefined)?.name === name);
  assert.ok(m, `${kind} ${name} is in the kustomization`);
  return m.object as Obj;
}

before(() => {
  objects = loadKustomization(MANIFESTS_DIR);
});

suite('kustomize base', () => {
  it('lists exactly the objects Skein installs', () => {
    const names = objects.map((m) => `${String(m.object.kind)}/${String((m.object.metadata as Obj).name)}`).sort();
    assert.deepEqual(names, [
      'ClusterRole/skein-cp', 'ClusterRoleBinding/skein-cp',
      'CustomResourceDefinition/meshes.skein.io', 'CustomResourceDefinition/trafficpermissions.skein.io',
      'Deployment/skein-cp', 'MutatingWebhookConfiguration/skein-injector', 'Namespace/skein-system',
      'PodDisruptionBudget/skein-cp', 'Role/skein-cp', 'RoleBinding/skein-cp', 'Service/skein-cp',
      'ServiceAccount/skein-cp',
    ]);
  });

  it('leaves no manifest file out of the kustomization', () => {
    const listed = new Set(objects.map((m) => m.source));
    const onDisk = [
      ...readdirSync(MANIFESTS_DIR).filter((f) => f.endsWith('.yaml') && f !== 'kustomization.yaml'),
      ...readdirSync(join(MANIFESTS_DIR, 'crds')).map((f) => `crds/${f}`),
    ];
    for (const f of onDisk) assert.ok(listed.has(f), `${f} is listed in manifests/kustomization.yaml`);
  });

  it('does not install the default Mesh with its CRD (first apply would fail), but in defaults/', () => {
    assert.ok(!objects.some((m) => m.object.kind === 'Mesh'));
    const defaults = loadKustomization(join(MANIFESTS_DIR, 'defaults'));
    assert.deepEqual(defaults.map((m) => `${gvk(m.object)} ${String((m.object.metadata as Obj).name)}`),
      ['skein.io/v1alpha1/Mesh default']);
    const spec = defaults[0]?.object.spec as Obj;
    assert.deepEqual(spec, { mtls: { mode: 'PERMISSIVE', certTTL: '24h' }, defaultAction: 'Allow' });
  });

  it('validates every object against its Kubernetes schema (kubernetes-models)', () => {
    for (const m of objects) {
      assert.doesNotThrow(() => validateWithModel(gvk(m.object), m.object), describe(m));
    }
  });

  it('refuses kinds it has no model for, and the models do catch schema errors', () => {
    assert.throws(() => validateWithModel('skein.io/v1alpha1/Mesh', {}), UnknownKindError);
    const broken = structuredClone(find('Deployment', 'skein-cp'));
    broken.spec.replicas = 'two';
    assert.throws(() => validateWithModel('apps/v1/Deployment', broken), /replicas/);
    const noRules = structuredClone(find('MutatingWebhookConfiguration', 'skein-injector'));
    delete noRules.webhooks[0].sideEffects;
    assert.throws(() => validateWithModel(gvk(noRules), noRules), /sideEffects/);
  });

  it('puts namespaced objects in skein-system and leaves cluster-scoped ones without a namespace', () => {
    const clusterScoped = new Set(['Namespace', 'CustomResourceDefinition', 'ClusterRole', 'ClusterRoleBinding',
      'MutatingWebhookConfiguration']);
    for (const m of objects) {
      const ns = (m.object.metadata as Obj).namespace;
      if (clusterScoped.has(String(m.object.kind))) assert.equal(ns, undefined, describe(m));
      else assert.equal(ns, 'skein-system', describe(m));
    }
  });

  it('the reader refuses kustomize transformers it does not model', () => {
    const dir = mkdtempSync(join(tmpdir(), 'sk-ut-kustomize-'));
    try {
      writeFileSync(join(dir, 'ns.yaml'), 'apiVersion: v1\nkind: Namespace\nmetadata: {name: a}\n');
      writeFileSync(join(dir, 'kustomization.yaml'), 'namespace: other\nresources: [ns.yaml]\n');
      assert.throws(() => loadKustomization(dir), UnsupportedKustomizationError);
      writeFileSync(join(dir, 'kustomization.yaml'), 'resources: [ns.yaml, missing.yaml]\n');
      assert.throws(() => loadKustomization(dir), /missing\.yaml does not exist/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

suite('webhook configuration', () => {
  let webhooks: Obj[] = [];
  before(() => {
    webhooks = find('MutatingWebhookConfiguration', 'skein-injector').webhooks as Obj[];
  });

  it('is one plain YAML document (skein-local reads this file)', () => {
    const docs = parseAllDocuments(readFileSync(join(MANIFESTS_DIR, 'webhook-configuration.yaml'), 'utf8'));
    assert.equal(docs.length, 1);
    assert.equal((docs[0]?.toJS() as Obj).kind, 'MutatingWebhookConfiguration');
  });

  it('has the namespace entry and the per-pod opt-in entry', () => {
    assert.deepEqual(webhooks.map((w) => w.name), ['namespace.inject.skein.io', 'object.inject.skein.io']);
    const [ns, obj] = webhooks as [Obj, Obj];
    assert.deepEqual(ns.namespaceSelector.matchExpressions[0], { key: 'skein.io/inject', operator: 'In', values: ['enabled'] });
    assert.deepEqual(ns.objectSelector, { matchExpressions: [{ key: 'skein.io/inject', operator: 'NotIn', values: ['disabled'] }] });
    assert.deepEqual(obj.namespaceSelector.matchExpressions[0], { key: 'skein.io/inject', operator: 'DoesNotExist' });
    assert.deepEqual(obj.objectSelector, { matchExpressions: [{ key: 'skein.io/inject', operator: 'In', values: ['enabled'] }] });
  });

  it('excludes kube-system and skein-system in both entries', () => {
    for (const w of webhooks) {
      assert.deepEqual(w.namespaceSelector.matchExpressions[1],
        { key: 'kubernetes.io/metadata.name', operator: 'NotIn', values: ['kube-system', 'skein-system'] }, w.name);
      assert.equal(w.namespaceSelector.matchLabels, undefined, w.name);
    }
  });

  it('fails closed, has no side effects, answers within 5 s, re-invokes if needed, speaks v1 only', () => {
    for (const w of webhooks) {
      assert.equal(w.failurePolicy, 'Fail', w.name);
      assert.equal(w.sideEffects, 'None', w.name);
      assert.equal(w.timeoutSeconds, 5, w.name);
      assert.equal(w.reinvocationPolicy, 'IfNeeded', w.name);
      assert.equal(w.matchPolicy, 'Equivalent', w.name);
      assert.deepEqual(w.admissionReviewVersions, ['v1'], w.name);
      assert.deepEqual(w.rules, [{ operations: ['CREATE'], apiGroups: [''], apiVersions: ['v1'], resources: ['pods'],
        scope: 'Namespaced' }], w.name);
    }
  });

  it('calls skein-cp on /inject through port 443 of a Service that reaches the webhook port, with no caBundle to reset', () => {
    const svc = find('Service', 'skein-cp');
    const deploy = find('Deployment', 'skein-cp');
    const containerPorts = deploy.spec.template.spec.containers[0].ports as Obj[];
    for (const w of webhooks) {
      assert.deepEqual(w.clientConfig.service, { name: 'skein-cp', namespace: 'skein-system', path: '/inject', port: 443 });
      assert.ok(!('caBundle' in w.clientConfig), 'caBundle is written by skein-cp, not by kubectl apply');
    }
    const port443 = (svc.spec.ports as Obj[]).find((p) => p.port === 443);
    assert.ok(port443);
    assert.equal(containerPorts.find((p) => p.name === port443.targetPort)?.containerPort, 9443);
  });
});

suite('RBAC', () => {
  const rbacKinds = new Set(['ClusterRole', 'Role']);
  const rules = (): Array<{ owner: string; rule: Obj }> => objects
    .filter((m) => rbacKinds.has(String(m.object.kind)))
    .flatMap((m) => (m.object.rules as Obj[]).map((rule) => ({ owner: describe(m), rule })));

  it('has no wildcard verbs, resources, groups or names', () => {
    const all = rules();
    assert.ok(all.length > 0);
    for (const { owner, rule } of all) {
      for (const field of ['verbs', 'resources', 'apiGroups', 'resourceNames']) {
        for (const v of (rule[field] ?? []) as string[]) assert.ok(!v.includes('*'), `${owner}: ${field} ${v}`);
      }
      assert.equal(rule.nonResourceURLs, undefined, owner);
    }
  });

  it('grants only the verbs each feature needs', () => {
    const grants = (kind: string): string[] => (find(kind, 'skein-cp').rules as Obj[]).flatMap((r) =>
      (r.resources as string[]).flatMap((res) => (r.apiGroups as string[]).map((g) =>
        `${g || 'core'}/${res}${r.resourceNames ? `[${(r.resourceNames as string[]).join(',')}]` : ''}: ${[...r.verbs].sort().join(',')}`)));
    assert.deepEqual(grants('ClusterRole').sort(), [
      'admissionregistration.k8s.io/mutatingwebhookconfigurations[skein-injector]: get,patch,update',
      'authentication.k8s.io/tokenreviews: create',
      'core/configmaps: create',
      'core/configmaps[skein-ca-root]: delete,get,update',
      'core/events: create',
      'core/namespaces: get,list,watch',
      'core/pods: get,list,watch',
      'core/services: get,list,watch',
      'discovery.k8s.io/endpointslices: get,list,watch',
      'events.k8s.io/events: create',
      'skein.io/meshes: get,list,watch',
      'skein.io/trafficpermissions/status: patch',
      'skein.io/trafficpermissions: get,list,watch',
    ]);
    assert.deepEqual(grants('Role').sort(), [
      'coordination.k8s.io/leases: create',
      'coordination.k8s.io/leases[skein-cp-leader]: get,update',
      'core/secrets: create',
      'core/secrets[skein-ca]: get',
      'core/secrets[skein-webhook-tls]: get,update',
    ]);
    assert.equal(find('Role', 'skein-cp').metadata.namespace, 'skein-system');
  });

  it('binds both roles to the skein-cp service account the Deployment runs as', () => {
    const deploy = find('Deployment', 'skein-cp');
    assert.equal(deploy.spec.template.spec.serviceAccountName, 'skein-cp');
    find('ServiceAccount', 'skein-cp');
    for (const [binding, role] of [['ClusterRoleBinding', 'ClusterRole'], ['RoleBinding', 'Role']] as const) {
      const b = find(binding, 'skein-cp');
      assert.deepEqual(b.roleRef, { apiGroup: 'rbac.authorization.k8s.io', kind: role, name: 'skein-cp' });
      assert.deepEqual(b.subjects, [{ kind: 'ServiceAccount', name: 'skein-cp', namespace: 'skein-system' }]);
    }
  });
});

suite('control plane Deployment', () => {
  let deploy: Obj;
  let pod: Obj;
  let container: Obj;
  before(() => {
    deploy = find('Deployment', 'skein-cp');
    pod = deploy.spec.template.spec;
    container = pod.containers[0];
  });

  it('runs 2 replicas of skein/control-plane in kubernetes mode, never injected', () => {
    assert.equal(deploy.spec.replicas, 2);
    assert.equal(pod.containers.length, 1);
    assert.equal(container.image, 'skein/control-plane:0.1.0');
    assert.deepEqual(container.args, ['--mode', 'kubernetes']);
    assert.equal(container.command, undefined, 'the image entrypoint is skein-cp');
    assert.equal(deploy.spec.template.metadata.labels['skein.io/inject'], 'disabled');
    assert.equal(find('Namespace', 'skein-system').metadata.labels['pod-security.kubernetes.io/enforce'], 'restricted');
  });

  it('exposes the contract ports and probes health on 15014', () => {
    const ports = new Map<string, number>((container.ports as Obj[]).map((p) => [p.name, p.containerPort]));
    assert.deepEqual(Object.fromEntries(ports), { webhook: 9443, grpc: 15012, 'http-health': 15014 });
    assert.deepEqual(container.livenessProbe.httpGet, { path: '/healthz', port: 'http-health' });
    assert.deepEqual(container.readinessProbe.httpGet, { path: '/readyz', port: 'http-health' });
    const svc = find('Service', 'skein-cp');
    assert.deepEqual((svc.spec.ports as Obj[]).map((p) => [p.port, ports.get(p.targetPort)]), [[443, 9443], [15012, 15012], [15014, 15014]]);
  });

  it('meets the restricted Pod Security Standard', () => {
    assert.equal(pod.securityContext.runAsNonRoot, true);
    assert.equal(pod.securityContext.seccompProfile.type, 'RuntimeDefault');
    const sc = container.securityContext;
    assert.equal(sc.allowPrivilegeEscalation, false);
    assert.equal(sc.readOnlyRootFilesystem, true);
    assert.equal(sc.runAsNonRoot, true);
    assert.ok(sc.runAsUser > 0);
    assert.deepEqual(sc.capabilities, { drop: ['ALL'] });
    assert.equal(sc.seccompProfile.type, 'RuntimeDefault');
    assert.equal(pod.hostNetwork, undefined);
    for (const v of pod.volumes as Obj[]) assert.equal(v.hostPath, undefined, v.name);
  });

  it('passes its own name and namespace through the downward API and sets resources', () => {
    const env = Object.fromEntries((container.env as Obj[]).map((e) => [e.name, e.valueFrom?.fieldRef?.fieldPath]));
    assert.deepEqual(env, { POD_NAMESPACE: 'metadata.namespace', POD_NAME: 'metadata.name' });
    assert.ok(container.resources.requests.cpu && container.resources.requests.memory);
    assert.ok(container.resources.limits.memory);
  });

  it('spreads replicas across nodes and keeps one through voluntary disruptions', () => {
    const term = pod.affinity.podAntiAffinity.preferredDuringSchedulingIgnoredDuringExecution[0].podAffinityTerm;
    assert.equal(term.topologyKey, 'kubernetes.io/hostname');
    const podLabels = deploy.spec.template.metadata.labels as Record<string, string>;
    const selects = (sel: Obj): boolean => Object.entries(sel.matchLabels as Record<string, string>).every(([k, v]) => podLabels[k] === v);
    assert.ok(selects(term.labelSelector));
    assert.ok(selects(deploy.spec.selector));
    const pdb = find('PodDisruptionBudget', 'skein-cp');
    assert.equal(pdb.spec.minAvailable, 1);
    assert.ok(selects(pdb.spec.selector));
    assert.ok(selects({ matchLabels: find('Service', 'skein-cp').spec.selector }));
  });
});
