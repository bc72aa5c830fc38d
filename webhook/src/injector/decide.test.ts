// The injector's pure core: the contract of docs/contracts.md stated as assertions (the golden files show the
// whole result; these tests say which parts of it matter and why).
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { V1Container, V1Pod } from '@kubernetes/client-node';
import { decide, defaultInjectorConfig, type InjectDecision } from './index.js';
import { parseQuantity } from './quantity.js';

const cfg = defaultInjectorConfig('1.2.3');

function pod(annotations: Record<string, string> = {}, spec: Partial<V1Pod['spec']> = {}): V1Pod {
  return {
    apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p', namespace: 'shop', annotations },
    spec: { containers: [{ name: 'app', image: 'example/app:1', ports: [{ name: 'http', containerPort: 8080 }] }], ...spec },
  };
}

function injected(d: InjectDecision): V1Pod {
  assert.equal(d.kind, 'inject', d.kind === 'inject' ? '' : d.message);
  return (d as Extract<InjectDecision, { kind: 'inject' }>).pod;
}

const byName = (list: V1Container[] | undefined, name: string): V1Container => {
  const c = list?.find((x) => x.name === name);
  assert.ok(c, `${name} missing`);
  return c;
};

describe('decide', () => {
  test('does not modify its input', () => {
    const input = pod({}, { initContainers: [{ name: 'setup', image: 'x' }], volumes: [{ name: 'v', emptyDir: {} }] });
    input.spec!.containers[0]!.livenessProbe = { tcpSocket: { port: 'http' } };
    const snapshot = structuredClone(input);
    injected(decide(input, 'shop', cfg));
    assert.deepEqual(input, snapshot);
  });

  test('non-native: skein-init last of init containers, skein-proxy first container with the wait hook', () => {
    const out = injected(decide(pod({}, { initContainers: [{ name: 'setup', image: 'x' }] }), 'shop', cfg));
    assert.deepEqual(out.spec!.initContainers!.map((c) => c.name), ['setup', 'skein-init']);
    assert.deepEqual(out.spec!.containers.map((c) => c.name), ['skein-proxy', 'app']);
    const proxy = out.spec!.containers[0]!;
    assert.deepEqual(proxy.lifecycle?.postStart?.exec?.command, ['skein-dp', 'wait', '--timeout', '120s']);
    assert.equal(proxy.restartPolicy, undefined);
    assert.equal(proxy.startupProbe, undefined);
  });

  test('native: skein-init, then skein-proxy (restartPolicy Always, startup probe), then the pod\'s init containers', () => {
    const out = injected(decide(pod({ 'skein.io/native-sidecar': 'true' }, { initContainers: [{ name: 'setup', image: 'x' }] }), 'shop', cfg));
    assert.deepEqual(out.spec!.initContainers!.map((c) => c.name), ['skein-init', 'skein-proxy', 'setup']);
    assert.deepEqual(out.spec!.containers.map((c) => c.name), ['app']);
    const proxy = out.spec!.initContainers![1]!;
    assert.equal(proxy.restartPolicy, 'Always');
    assert.deepEqual(proxy.startupProbe?.httpGet, { path: '/ready', port: 15020, scheme: 'HTTP' });
    assert.equal(proxy.startupProbe?.periodSeconds, 1);
    assert.equal(proxy.lifecycle, undefined);
  });

  test('the annotation overrides nativeSidecarDefault both ways; run-to-completion pods default to native', () => {
    const nativeCfg = { ...cfg, nativeSidecarDefault: true };
    const names = (d: InjectDecision): string[] => injected(d).spec!.initContainers!.map((c) => c.name);
    assert.deepEqual(names(decide(pod(), 'shop', nativeCfg)), ['skein-init', 'skein-proxy']);
    assert.deepEqual(names(decide(pod({ 'skein.io/native-sidecar': 'false' }), 'shop', nativeCfg)), ['skein-init']);
    assert.deepEqual(names(decide(pod({}, { restartPolicy: 'Never' }), 'shop', cfg)), ['skein-init', 'skein-proxy']);
    assert.deepEqual(names(decide(pod({ 'skein.io/native-sidecar': 'false' }, { restartPolicy: 'OnFailure' }), 'shop', cfg)), ['skein-init']);
  });

  test('--native-sidecar false (or an API server older than 1.29) gives Jobs the classic sidecar; the annotation still wins', () => {
    const classicOnly = { ...cfg, nativeSidecarRunToCompletion: false };
    const job = injected(decide(pod({}, { restartPolicy: 'Never' }), 'shop', classicOnly));
    assert.deepEqual(job.spec!.initContainers!.map((c) => c.name), ['skein-init']);
    assert.equal(job.spec!.containers[0]!.name, 'skein-proxy');
    const optedIn = injected(decide(pod({ 'skein.io/native-sidecar': 'true' }, { restartPolicy: 'OnFailure' }), 'shop', classicOnly));
    assert.deepEqual(optedIn.spec!.initContainers!.map((c) => c.name), ['skein-init', 'skein-proxy']);
  });

  test('skein-init args: mesh ports always excluded inbound, outbound flags only when annotated', () => {
    const plain = byName(injected(decide(pod(), 'shop', cfg)).spec!.initContainers, 'skein-init');
    assert.deepEqual(plain.args, ['init', '--proxy-uid', '5678', '--proxy-gid', '5678', '--outbound-port', '15001',
      '--inbound-port', '15006', '--exclude-inbound-ports', '15000,15020']);
    const annotated = byName(injected(decide(pod({
      'traffic.skein.io/exclude-inbound-ports': '9090,15020, 22',
      'traffic.skein.io/exclude-outbound-ports': '',
      'traffic.skein.io/exclude-outbound-cidrs': '169.254.169.254,fd00::/8',
    }), 'shop', cfg)).spec!.initContainers, 'skein-init');
    assert.deepEqual(annotated.args!.slice(9), ['--exclude-inbound-ports', '22,9090,15000,15020',
      '--exclude-outbound-cidrs', '169.254.169.254/32,fd00::/8']);
  });

  test('skein-init runs as root even under a pod-level runAsNonRoot; only NET_ADMIN and NET_RAW', () => {
    const out = injected(decide(pod({}, { securityContext: { runAsNonRoot: true, runAsUser: 1000 } }), 'shop', cfg));
    const sc = byName(out.spec!.initContainers, 'skein-init').securityContext!;
    assert.equal(sc.runAsUser, 0);
    assert.equal(sc.runAsNonRoot, false);
    assert.equal(sc.allowPrivilegeEscalation, false);
    assert.equal(sc.readOnlyRootFilesystem, true);
    assert.deepEqual(sc.capabilities, { add: ['NET_ADMIN', 'NET_RAW'], drop: ['ALL'] });
    assert.deepEqual(byName(out.spec!.initContainers, 'skein-init').volumeMounts, [{ name: 'skein-xtables-lock', mountPath: '/run' }]);
  });

  test('skein-proxy: identity, env, volumes, health port and default resources per the contract', () => {
    const out = injected(decide(pod(), 'shop', cfg));
    const proxy = byName(out.spec!.containers, 'skein-proxy');
    assert.equal(proxy.image, 'skein/dataplane:1.2.3');
    assert.equal(proxy.command, undefined, 'the image entrypoint is skein-dp: only args');
    assert.deepEqual(proxy.args, ['run']);
    const sc = proxy.securityContext!;
    assert.deepEqual([sc.runAsUser, sc.runAsGroup, sc.runAsNonRoot, sc.allowPrivilegeEscalation, sc.readOnlyRootFilesystem],
      [5678, 5678, true, false, true]);
    assert.deepEqual(sc.capabilities, { drop: ['ALL'] });
    assert.equal(sc.seccompProfile?.type, 'RuntimeDefault');
    assert.deepEqual(proxy.env!.map((e) => e.name), ['POD_NAME', 'POD_NAMESPACE', 'POD_IP', 'SERVICE_ACCOUNT', 'NODE_NAME',
      'SKEIN_ORIGINAL_PROBES', 'SKEIN_CP_ADDRESS', 'SKEIN_TOKEN_PATH', 'SKEIN_CA_PATH', 'SKEIN_CP_CA_PATH', 'NODE_OPTIONS']);
    assert.equal(proxy.env!.find((e) => e.name === 'SKEIN_CP_CA_PATH')!.value, '/var/run/secrets/skein/ca/control-plane-ca.pem');
    assert.equal(proxy.env!.find((e) => e.name === 'SKEIN_CP_ADDRESS')!.value, 'skein-cp.skein-system.svc:15012');
    assert.equal(proxy.env!.find((e) => e.name === 'NODE_OPTIONS')!.value, '--max-semi-space-size=2 --max-old-space-size=128');
    assert.deepEqual(proxy.ports, [{ name: 'skein-health', containerPort: 15020, protocol: 'TCP' }]);
    assert.deepEqual(proxy.readinessProbe?.httpGet, { path: '/ready', port: 15020, scheme: 'HTTP' });
    assert.deepEqual(proxy.resources, { requests: { cpu: '100m', memory: '64Mi' }, limits: { memory: '256Mi' } });
    assert.ok(proxy.volumeMounts!.every((m) => m.readOnly === true));
    const token = out.spec!.volumes!.find((v) => v.name === 'skein-token')!;
    assert.deepEqual(token.projected!.sources, [{ serviceAccountToken: { audience: 'skein-cp', expirationSeconds: 3600, path: 'token' } }]);
    assert.deepEqual(out.spec!.volumes!.find((v) => v.name === 'skein-ca-root')!.configMap, { name: 'skein-ca-root' });
    assert.equal(out.metadata!.annotations!['skein.io/injected'], '1.2.3');
    assert.equal(out.metadata!.annotations!['skein.io/original-probes'], '{}');
    assert.equal(out.metadata!.annotations!['kubectl.kubernetes.io/default-container'], 'app');
  });

  test('a default container the user chose is kept', () => {
    const out = injected(decide(pod({ 'kubectl.kubernetes.io/default-container': 'other' }), 'shop', cfg));
    assert.equal(out.metadata!.annotations!['kubectl.kubernetes.io/default-container'], 'other');
  });

  test('probe rewriting keeps timing, resolves named ports and leaves exec probes alone', () => {
    const input = pod();
    const app = input.spec!.containers[0]!;
    app.livenessProbe = { httpGet: { path: '/live', port: 'http', scheme: 'HTTPS' }, periodSeconds: 7, failureThreshold: 4 };
    app.readinessProbe = { exec: { command: ['true'] } };
    app.startupProbe = { grpc: { port: 9000 }, initialDelaySeconds: 3 };
    const out = byName(injected(decide(input, 'shop', cfg)).spec!.containers, 'app');
    assert.deepEqual(out.livenessProbe, { periodSeconds: 7, failureThreshold: 4, httpGet: { path: '/app-health/app/liveness', port: 15020, scheme: 'HTTP' } });
    assert.deepEqual(out.readinessProbe, { exec: { command: ['true'] } });
    assert.deepEqual(out.startupProbe, { initialDelaySeconds: 3, httpGet: { path: '/app-health/app/startup', port: 15020, scheme: 'HTTP' } });
    const originals = JSON.parse(injected(decide(input, 'shop', cfg)).metadata!.annotations!['skein.io/original-probes']!) as unknown;
    assert.deepEqual(originals, { app: {
      liveness: { httpGet: { path: '/live', port: 8080, scheme: 'HTTPS' }, periodSeconds: 7, failureThreshold: 4 },
      startup: { grpc: { port: 9000 }, initialDelaySeconds: 3 },
    } });
  });

  test('user sidecar init containers get rewritten probes only in native mode', () => {
    const sidecar = { name: 'shipper', image: 'x', restartPolicy: 'Always', startupProbe: { tcpSocket: { port: 9 } } };
    const classic = injected(decide(pod({}, { initContainers: [sidecar] }), 'shop', cfg));
    assert.deepEqual(byName(classic.spec!.initContainers, 'shipper').startupProbe, { tcpSocket: { port: 9 } });
    const native = injected(decide(pod({ 'skein.io/native-sidecar': 'true' }, { initContainers: [sidecar] }), 'shop', cfg));
    assert.equal(byName(native.spec!.initContainers, 'shipper').startupProbe?.httpGet?.path, '/app-health/shipper/startup');
  });

  test('skips: label, hostNetwork, system namespaces, already injected', () => {
    const reason = (d: InjectDecision): string => (d.kind === 'skip' ? d.reason : `not skipped: ${d.kind}`);
    assert.equal(reason(decide({ ...pod(), metadata: { labels: { 'skein.io/inject': 'disabled' } } }, 'shop', cfg)), 'disabled-label');
    assert.equal(reason(decide(pod({}, { hostNetwork: true }), 'shop', cfg)), 'host-network');
    assert.equal(reason(decide(pod(), 'kube-system', cfg)), 'system-namespace');
    assert.equal(reason(decide(pod(), 'skein-system', cfg)), 'system-namespace');
    // skein-cp installed elsewhere (POD_NAMESPACE): its own namespace is skipped too, and only for that config.
    assert.equal(reason(decide(pod(), 'mesh-cp', { ...cfg, controlPlaneNamespace: 'mesh-cp' })), 'system-namespace');
    assert.equal(decide(pod(), 'mesh-cp', cfg).kind, 'inject');
    assert.equal(reason(decide(pod({ 'skein.io/injected': 'x' }), 'shop', cfg)), 'already-injected');
    assert.equal(reason(decide(pod({}, { initContainers: [{ name: 'skein-init', image: 'x' }] }), 'shop', cfg)), 'already-injected');
    assert.equal(reason(decide(injected(decide(pod(), 'shop', cfg)), 'shop', cfg)), 'already-injected');
  });

  test('rejections name the container and the way out', () => {
    const msg = (d: InjectDecision): string => (d.kind === 'reject' ? `${d.reason}: ${d.message}` : `not rejected: ${d.kind}`);
    for (const port of [15000, 15001, 15006, 15020]) {
      const p = pod();
      p.spec!.containers[0]!.ports = [{ containerPort: port }];
      assert.match(msg(decide(p, 'shop', cfg)), new RegExp(`^port-conflict: container "app".*${port}.*skein\\.io/inject: disabled`));
    }
    assert.match(msg(decide(pod({}, { securityContext: { runAsUser: 5678 } }), 'shop', cfg)), /^uid-conflict: container "app".*5678/);
    assert.match(msg(decide(pod({}, { initContainers: [{ name: 'setup', image: 'x', securityContext: { runAsGroup: 5678 } }] }), 'shop', cfg)),
      /^gid-conflict: init container "setup" runs as GID 5678 \(its securityContext\.runAsGroup\)/);
    assert.match(msg(decide(pod({ 'skein.io/opaque-ports': '0' }), 'shop', cfg)), /^invalid-annotation: pod annotation skein\.io\/opaque-ports/);
    assert.match(msg(decide(pod({ 'skein.io/proxy-cpu-request': '1', 'skein.io/proxy-cpu-limit': '500m' }), 'shop', cfg)),
      /^invalid-annotation: .*cpu request 1 is more than its limit 500m.*skein\.io\/proxy-cpu-limit/);
    for (const cidrs of ['example.com', 'fe80::1%eth0', '10.0.0.0/', '::/129']) {
      assert.match(msg(decide(pod({ 'traffic.skein.io/exclude-outbound-cidrs': cidrs }), 'shop', cfg)), /exclude-outbound-cidrs/);
    }
    const named = pod();
    named.spec!.containers[0]!.ports = [{ name: 'skein-health', containerPort: 9999 }];
    assert.match(msg(decide(named, 'shop', cfg)), /^reserved-name: container "app" names a port "skein-health"/);
    assert.match(msg(decide({ spec: {} } as V1Pod, 'shop', cfg)), /^invalid-pod: pod field spec\.containers/);
    const portless = pod();
    portless.spec!.containers[0]!.readinessProbe = { httpGet: { path: '/' } } as never;
    assert.match(msg(decide(portless, 'shop', cfg)), /^invalid-pod: container "app" has a readiness probe without a port/);
  });

  test('only the documented annotations are read: image and capability overrides have no effect', () => {
    const out = injected(decide(pod({ 'skein.io/proxy-image': 'evil/image', 'skein.io/init-capabilities': 'SYS_ADMIN' }), 'shop', cfg));
    for (const c of [...out.spec!.initContainers!, ...out.spec!.containers].filter((x) => x.name.startsWith('skein-'))) {
      assert.equal(c.image, 'skein/dataplane:1.2.3');
      assert.ok(!(c.securityContext?.capabilities?.add ?? []).includes('SYS_ADMIN'));
    }
  });
});

describe('parseQuantity', () => {
  test('accepts Kubernetes quantity syntax', () => {
    assert.equal(parseQuantity('100m'), 0.1);
    assert.equal(parseQuantity('64Mi'), 64 * 2 ** 20);
    assert.equal(parseQuantity('1.5Gi'), 1.5 * 2 ** 30);
    assert.equal(parseQuantity('2'), 2);
    assert.equal(parseQuantity('.5'), 0.5);
    assert.equal(parseQuantity('1e3'), 1000);
    assert.equal(parseQuantity('128M'), 128e6);
    // Regression: "E" is exa, not an empty exponent (1E was read as 1), and 1Ei was refused.
    assert.equal(parseQuantity('1E'), 1e18);
    assert.equal(parseQuantity('1Ei'), 2 ** 60);
    assert.equal(parseQuantity('2E3'), 2000);
  });
  test('refuses what the API server refuses (and negatives)', () => {
    for (const bad of ['', 'abc', '256MB', '1.2.3', '-1', '1 Gi', 'Mi', '1mi', '0x10']) assert.equal(parseQuantity(bad), undefined, bad);
  });
});
