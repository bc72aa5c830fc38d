// skein-local end to end on this host: real bridge, netns, iptables, processes and the real skein-cp.
// Own state dir, bridge `sklt<N>` and ranges 10.250.n/10.251.n (a free slot: a leftover of a killed
// run is skipped), so neither a running demo nor the suite's instances are touched. The instance is
// driven through the suite harness's LocalMesh (the same CLI wrapper and teardown as the e2e suite).
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { LocalMesh } from '../suite/harness/local-mesh.js';
import { pollUntil } from '../suite/harness/poll.js';
import { run, type RunResult } from '../suite/harness/run.js';
import { teardownOnSignals } from '../suite/harness/suite.js';
import type { Pod } from './model/types.js';

const mesh = new LocalMesh('node', { bridgePrefix: 'sklt', podNet: '10.250', serviceNet: '10.251' });
const { stateDir, bridge } = mesh;
/** Third octet of both ranges (the slot), for address assertions. */
const n = mesh.podCidr.split('.')[2]!;
const NS = 'sklt-plain';
const MESH_NS = 'sklt-mesh';
const MARK = `${4000 + (process.pid % 1000)}`; // unique sleep argument to find our processes
/** hostPath volume: inside the work dir, so even a killed run's copy goes with it. */
const HOST_DIR = join(mesh.filesDir, 'host');
/** A network namespace behind a veth that is not the bridge: stands for the world outside the host. */
const OUTSIDE = {
  netns: `sklt-out-${process.pid}`,
  hostLink: `skltx${process.pid % 100000}`,
  hostIP: `10.247.${process.pid % 250}.1`,
  peerIP: `10.247.${process.pid % 250}.2`,
};

/** A hard guard per CLI call, longer than the longest `wait --timeout` below (90s). */
const cli = (...args: string[]): Promise<RunResult> => mesh.cli(args, { timeoutMs: 120_000 });

async function sh(cmd: string): Promise<string> {
  return (await run('sh', ['-c', cmd])).stdout;
}

async function ok(...args: string[]): Promise<string> {
  const r = await cli(...args);
  assert.equal(r.code, 0, `skein-local ${args.join(' ')} failed:\n${r.stdout}\n${r.stderr}`);
  return r.stdout;
}

async function getPod(name: string, ns: string): Promise<Pod> {
  return JSON.parse(await ok('get', 'pod', name, '-n', ns, '-o', 'json')) as Pod;
}

function eventually<T>(what: string, f: () => Promise<T | undefined>, timeoutMs = 60_000): Promise<T> {
  return pollUntil(f, { what, timeoutMs });
}

const PLAIN = `
apiVersion: v1
kind: Namespace
metadata: { name: ${NS} }
---
apiVersion: v1
kind: ConfigMap
metadata: { name: settings, namespace: ${NS} }
data: { greeting: hello-from-configmap }
---
apiVersion: v1
kind: Secret
metadata: { name: creds, namespace: ${NS} }
data: { password: czNjcmV0 }
---
apiVersion: v1
kind: Pod
metadata: { name: web, namespace: ${NS}, labels: { app: web } }
spec:
  containers:
    - name: web
      image: python:3
      command: ["python3", "-m", "http.server", "8080", "--bind", "0.0.0.0", "--directory", "\${STATE_DIR}"]
      ports: [{ name: http, containerPort: 8080 }]
      readinessProbe: { httpGet: { path: /, port: http }, periodSeconds: 1 }
      livenessProbe: { tcpSocket: { port: 8080 }, periodSeconds: 2 }
---
apiVersion: v1
kind: Service
metadata: { name: web, namespace: ${NS} }
spec:
  selector: { app: web }
  ports: [{ port: 8080, targetPort: http }]
---
apiVersion: v1
kind: Pod
metadata: { name: client, namespace: ${NS}, labels: { app: client, team: blue } }
spec:
  securityContext: { runAsUser: 1000, runAsGroup: 1000 }
  containers:
    - name: client
      image: busybox
      command: ["sleep", "${MARK}"]
      env:
        - { name: POD_NAME, valueFrom: { fieldRef: { fieldPath: metadata.name } } }
        - { name: POD_IP, valueFrom: { fieldRef: { fieldPath: status.podIP } } }
        - { name: TEAM, valueFrom: { fieldRef: { fieldPath: "metadata.labels['team']" } } }
        - { name: WHO, value: "$(POD_NAME)@$(POD_IP)" }
      volumeMounts:
        - { name: settings, mountPath: /etc/sklt-settings, readOnly: true }
        - { name: scratch, mountPath: /tmp/sklt-scratch-${MARK} }
        - { name: creds, mountPath: /tmp/sklt-vol-${MARK}/secret, readOnly: true }
        - { name: info, mountPath: /tmp/sklt-vol-${MARK}/info }
        - { name: bundle, mountPath: /tmp/sklt-vol-${MARK}/projected }
        - { name: host, mountPath: /tmp/sklt-vol-${MARK}/host }
  volumes:
    - { name: settings, configMap: { name: settings } }
    - { name: scratch, emptyDir: {} }
    - { name: creds, secret: { secretName: creds, items: [{ key: password, path: pw/current }] } }
    - name: info
      downwardAPI:
        items:
          - { path: labels, fieldRef: { fieldPath: metadata.labels } }
          - { path: name, fieldRef: { fieldPath: metadata.name } }
    - name: bundle
      projected:
        sources:
          - configMap: { name: settings, items: [{ key: greeting, path: greeting }] }
          - serviceAccountToken: { audience: sklt-aud, path: token, expirationSeconds: 3600 }
    - { name: host, hostPath: { path: ${HOST_DIR}, type: DirectoryOrCreate } }
`;

const JOB = `
apiVersion: v1
kind: Pod
metadata: { name: job, namespace: ${NS} }
spec:
  restartPolicy: Never
  initContainers:
    - name: prepare
      image: busybox
      command: ["sh", "-c", "echo prepared > /data/step1"]
      volumeMounts: [{ name: data, mountPath: /data }]
    - name: after-prepare
      image: busybox
      # Fails (and with restartPolicy Never fails the pod) unless prepare ran to completion first.
      command: ["sh", "-c", "test -s /data/step1 && echo second >> /data/step1"]
      volumeMounts: [{ name: data, mountPath: /data }]
    - name: helper
      image: busybox
      restartPolicy: Always
      command: ["sleep", "${MARK}"]
  containers:
    - name: main
      image: busybox
      command: ["sh", "-c", "cat /data/step1 && echo job-done"]
      volumeMounts: [{ name: data, mountPath: /data }]
  volumes: [{ name: data, emptyDir: {} }]
---
apiVersion: v1
kind: Pod
metadata: { name: crasher, namespace: ${NS} }
spec:
  containers:
    - name: crash
      image: busybox
      command: ["sh", "-c", "echo attempt; exit 3"]
`;

const HOOKS = `
apiVersion: v1
kind: Pod
metadata: { name: hooks, namespace: ${NS} }
spec:
  volumes: [{ name: shared, emptyDir: {} }]
  containers:
    - name: first
      image: busybox
      command: ["sleep", "${MARK}"]
      volumeMounts: [{ name: shared, mountPath: /tmp/sklt-shared-${MARK} }]
      lifecycle: { postStart: { exec: { command: ["sh", "-c", "sleep 1; echo hook-done > /tmp/sklt-shared-${MARK}/hook"] } } }
    - name: second
      image: busybox
      command: ["sh", "-c", "cat /tmp/sklt-shared-${MARK}/hook; exec sleep ${MARK}"]
      volumeMounts: [{ name: shared, mountPath: /tmp/sklt-shared-${MARK} }]
      readinessProbe: { exec: { command: ["test", "-f", "/tmp/sklt-shared-${MARK}/ready"] }, periodSeconds: 1 }
---
apiVersion: v1
kind: Pod
metadata: { name: unhealthy, namespace: ${NS} }
spec:
  containers:
    - name: app
      image: busybox
      command: ["sleep", "${MARK}"]
      livenessProbe: { exec: { command: ["false"] }, periodSeconds: 1, failureThreshold: 2 }
---
apiVersion: v1
kind: Pod
metadata: { name: gated, namespace: ${NS} }
spec:
  volumes: [{ name: gate, emptyDir: {} }]
  initContainers:
    - name: proxy
      image: busybox
      restartPolicy: Always
      command: ["sleep", "${MARK}"]
      volumeMounts: [{ name: gate, mountPath: /tmp/sklt-gate-${MARK} }]
      # Each attempt leaves a line in tries, so the test can wait for failed attempts instead of a time.
      startupProbe:
        exec: { command: ["sh", "-c", "echo x >> /tmp/sklt-gate-${MARK}/tries; test -f /tmp/sklt-gate-${MARK}/open"] }
        periodSeconds: 1
        failureThreshold: 600
  containers:
    - name: app
      image: busybox
      command: ["sleep", "${MARK}"]
`;

const DEPLOY = `
apiVersion: apps/v1
kind: Deployment
metadata: { name: echo, namespace: ${NS} }
spec:
  replicas: 2
  selector: { matchLabels: { app: echo } }
  template:
    metadata: { labels: { app: echo } }
    spec:
      containers:
        - name: echo
          image: alpine/socat
          command: ["socat", "TCP-LISTEN:9090,fork,reuseaddr,backlog=${MARK}", "SYSTEM:echo $HOSTNAME"]
          ports: [{ name: tcp, containerPort: 9090 }]
          readinessProbe: { tcpSocket: { port: tcp }, periodSeconds: 1 }
---
apiVersion: v1
kind: Service
metadata: { name: echo, namespace: ${NS} }
spec:
  selector: { app: echo }
  ports: [{ port: 90, targetPort: tcp }]
`;

const MESH = `
apiVersion: v1
kind: Namespace
metadata: { name: ${MESH_NS}, labels: { skein.io/inject: enabled } }
---
apiVersion: v1
kind: Pod
metadata: { name: meshed, namespace: ${MESH_NS} }
spec:
  containers:
    - name: app
      image: busybox
      command: ["sleep", "${MARK}"]
`;

const DENIED = `
apiVersion: v1
kind: Pod
metadata: { name: sneaky, namespace: ${MESH_NS} }
spec:
  containers:
    - name: app
      image: busybox
      command: ["sleep", "${MARK}"]
      securityContext: { runAsUser: 5678 }
`;

describe('skein-local node (root, real network namespaces)', () => {
  let release = (): void => undefined;
  before(async () => {
    release = teardownOnSignals(mesh, 'skein-local node');
    for (const [name, text] of [['plain.yaml', PLAIN], ['job.yaml', JOB], ['hooks.yaml', HOOKS], ['deploy.yaml', DEPLOY], ['mesh.yaml', MESH], ['denied.yaml', DENIED]] as const) {
      await writeFile(join(mesh.filesDir, name), text.replace('${STATE_DIR}', stateDir));
    }
  });

  after(async () => {
    release();
    const problem = await mesh.destroy();
    if (problem) console.error(`skein-local node test: cleanup problem: ${problem}`);
    // Mount points are journaled; the last step loses the journal on purpose, so they may remain.
    for (const d of [`/tmp/sklt-scratch-${MARK}`, `/tmp/sklt-shared-${MARK}`, `/tmp/sklt-vol-${MARK}`, `/tmp/sklt-gate-${MARK}`]) await rm(d, { recursive: true, force: true });
    await run('sh', ['-c', `ip netns pids ${OUTSIDE.netns} | xargs -r kill -9; ip netns del ${OUTSIDE.netns}`]);
    await run('ip', ['link', 'del', OUTSIDE.hostLink]);
  });

  it('up starts the node; a second up says it is already up', async () => {
    assert.match(await ok('up'), /skein-local is up/);
    assert.match(await ok('up'), /already up/);
    assert.ok(existsSync(join(stateDir, 'cp', 'cp.json')));
    assert.ok(existsSync(join(stateDir, 'sa-pub.pem')));
    // The same state dir with another bridge (a forgotten SKEIN_LOCAL_BRIDGE) must not sweep by the wrong names.
    const wrong = await cli('--bridge', 'skein0', 'down');
    assert.equal(wrong.code, 1, wrong.stdout);
    assert.match(wrong.stderr, new RegExp(`belongs to the node with bridge ${bridge}, .*not skein0`));
    assert.match(await ok('up'), /already up/, 'the refused down touched nothing');
  });

  it('runs a pod behind a Service and reports it Running with its IP', async () => {
    assert.match(await ok('apply', '-f', join(mesh.filesDir, 'plain.yaml')), /pod\/web created/);
    await ok('wait', 'pod', 'web', '-n', NS, '--for', 'ready', '--timeout', '90s');
    await ok('wait', 'pod', '-l', 'app=client', '-n', NS, '--for', 'ready', '--timeout', '90s');
    const web = await getPod('web', NS);
    assert.equal(web.status?.phase, 'Running');
    assert.match(web.status?.podIP ?? '', new RegExp(`^10\\.250\\.${n}\\.\\d+$`));
    assert.equal(web.status?.containerStatuses?.[0]?.ready, true);
    assert.ok('running' in web.status!.containerStatuses![0]!.state);
    assert.match(await ok('get', 'pods', '-n', NS), /web\s+1\/1\s+Running/);
  });

  it('another pod reaches it by Service name through the DNAT rules', async () => {
    const r = await cli('exec', 'client', '-n', NS, '--', 'curl', '-sf', '-m', '5', `http://web.${NS}:8080/`);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /Directory listing/);
    const short = await cli('exec', 'client', '-n', NS, '--', 'curl', '-sf', '-m', '5', '-o', '/dev/null', 'http://web:8080/');
    assert.equal(short.code, 0, 'the short name resolves inside the namespace');
    const hairpin = await cli('exec', 'web', '-n', NS, '--', 'curl', '-sf', '-m', '5', '-o', '/dev/null', `http://web.${NS}.svc.cluster.local:8080/`);
    assert.equal(hairpin.code, 0, 'a pod reaches its own Service (hairpin)');
    const nat = await sh('iptables-save -t nat');
    assert.match(nat, new RegExp(`-A SKL-${bridge}-SVC .*-j DNAT --to-destination ${web()}:8080`));
  });

  it('nothing crosses the fence: pod -> another interface and another interface -> pod are dropped', async () => {
    // "Another interface": a veth into a network namespace this test makes, with a listener that the
    // host itself reaches (the control). Only the bridge's FORWARD fence stands between it and the pods.
    const o = OUTSIDE;
    const made = await run('sh', ['-c', `ip netns add ${o.netns} && ip link add ${o.hostLink} type veth peer name eth0 netns ${o.netns} && ` +
      `ip addr add ${o.hostIP}/30 dev ${o.hostLink} && ip link set ${o.hostLink} up && ` +
      `ip -n ${o.netns} addr add ${o.peerIP}/30 dev eth0 && ip -n ${o.netns} link set eth0 up && ip -n ${o.netns} link set lo up && ` +
      `ip -n ${o.netns} route add default via ${o.hostIP} && ` +
      // Counts every packet from a pod that reaches the outside (must stay 0).
      `ip netns exec ${o.netns} iptables -w -A INPUT -s ${mesh.podCidr} -j ACCEPT`]);
    assert.equal(made.code, 0, `setting up the outside namespace: ${made.stderr}`);
    // fork: the listener keeps answering, so without the fence the pod's connection below would succeed.
    const listener = spawn('ip', ['netns', 'exec', o.netns, 'socat', 'TCP-LISTEN:7000,reuseaddr,fork', 'SYSTEM:echo outside'], { stdio: 'ignore' });
    try {
      const control = await eventually('the outside listener to answer the host', async () => {
        const r = await run('socat', ['-T', '5', '-', `TCP:${o.peerIP}:7000,connect-timeout=2`]);
        return r.code === 0 && r.stdout.includes('outside') ? r.stdout : undefined;
      });
      assert.equal(control.trim(), 'outside');
      const dropped = async (): Promise<number> => {
        const out = await sh(`iptables -w -t filter -L SKL-${bridge}-FWD -v -x -n`);
        return out.split('\n').filter((l) => /\sDROP\s/.test(l)).reduce((sum, l) => sum + Number(l.trim().split(/\s+/)[0]), 0);
      };
      const before = await dropped();
      // socat, as for the control: the listener answers a bare line, not HTTP.
      const out = await cli('exec', 'client', '-n', NS, '--', 'socat', '-T', '5', '-', `TCP:${o.peerIP}:7000,connect-timeout=3`);
      assert.ok(out.code !== 0 && !out.stdout.includes('outside'), `a pod reached an address behind another interface: ${out.stdout}`);
      const webIP = (await getPod('web', NS)).status!.podIP!;
      const inbound = await run('ip', ['netns', 'exec', o.netns, 'curl', '-sS', '--connect-timeout', '3', `http://${webIP}:8080/`]);
      assert.notEqual(inbound.code, 0, `another interface reached a pod: ${inbound.stdout}`);
      assert.ok(await dropped() > before, 'the fence (SKL-<bridge>-FWD DROP) is what stopped them');
      const seen = await run('ip', ['netns', 'exec', o.netns, 'iptables', '-w', '-L', 'INPUT', '-v', '-x', '-n']);
      const fromPods = seen.stdout.split('\n').find((l) => l.includes(mesh.podCidr));
      assert.equal(fromPods?.trim().split(/\s+/)[0], '0', `packets from the pods reached the outside:\n${seen.stdout}${seen.stderr}`);
    } finally {
      listener.kill('SIGKILL');
    }
  });

  it('a Deployment names its pods after admission; its Service spreads over both; running pods learn the new name', async () => {
    await ok('apply', '-f', join(mesh.filesDir, 'deploy.yaml'));
    await ok('wait', 'deployment', 'echo', '-n', NS, '--for', 'ready', '--timeout', '90s');
    const list = JSON.parse(await ok('get', 'pods', '-n', NS, '-l', 'app=echo', '-o', 'json')) as { items: Pod[] };
    const names = list.items.map((p) => p.metadata.name!).sort();
    assert.equal(names.length, 2);
    for (const name of names) assert.match(name, /^echo-[a-z0-9]{10}-[a-z0-9]{5}$/);
    const hosts = await ok('exec', 'client', '-n', NS, '-c', 'client', '--', 'cat', '/etc/hosts');
    assert.match(hosts, new RegExp(`\\techo echo\\.${NS} `), 'hosts of an already running pod now name the new Service');
    // 20 connections: with a fair split the chance that one endpoint never answers is 2^-19.
    const r = await cli('exec', 'client', '-n', NS, '--', 'sh', '-c', `for i in $(seq 20); do socat -T2 - TCP:echo.${NS}:90 </dev/null; done`);
    assert.equal(r.code, 0, r.stderr);
    const seen = new Set(r.stdout.split('\n').filter(Boolean));
    assert.deepEqual([...seen].sort(), names, 'both endpoints answer through the Service VIP');
    assert.match(await ok('delete', 'pod', names[0]!, '-n', NS), /pod\/echo-.* deleted/);
    const replaced = await eventually('a replacement pod', async () => {
      const now = (JSON.parse(await ok('get', 'pods', '-n', NS, '-l', 'app=echo', '-o', 'json')) as { items: Pod[] }).items.map((p) => p.metadata.name!);
      return now.length === 2 && !now.includes(names[0]!) ? now : undefined;
    });
    assert.ok(replaced.includes(names[1]!), 'the other pod is untouched');
  });

  it('exec -c runs as the container user with its env and mounts; logs show output', async () => {
    const pod = await getPod('client', NS);
    const r = await cli('exec', 'client', '-n', NS, '-c', 'client', '--', 'sh', '-c',
      'id -u; id -g; hostname; echo "$WHO $TEAM"; cat /etc/sklt-settings/greeting; echo; touch /etc/sklt-settings/x 2>/dev/null || echo read-only');
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(r.stdout.trim().split('\n'), ['1000', '1000', 'client', `client@${pod.status!.podIP} blue`, 'hello-from-configmap', 'read-only']);
    assert.equal((await cli('exec', 'client', '-n', NS, '--', 'sh', '-c', 'exit 7')).code, 7, 'exit code passed through');
    assert.match(await ok('logs', 'web', '-n', NS), /"GET \/ HTTP\/1\.1" 200/);
  });

  it('volumes: secret (items), downwardAPI, projected configMap + service account token, hostPath', async () => {
    const v = `/tmp/sklt-vol-${MARK}`;
    // Written on the host after the pod started (the directory is root's 0755, as kubelet makes it).
    await writeFile(join(HOST_DIR, 'note'), 'from-host\n');
    const r = await cli('exec', 'client', '-n', NS, '-c', 'client', '--', 'sh', '-c',
      `cat ${v}/secret/pw/current; echo; cat ${v}/info/name; echo; cat ${v}/info/labels; echo; cat ${v}/projected/greeting; echo; ` +
      `cut -d. -f2 ${v}/projected/token; cat ${v}/host/note`);
    assert.equal(r.code, 0, r.stderr);
    const [password, name, label1, label2, greeting, payload, note] = r.stdout.trim().split('\n');
    assert.deepEqual([password, name, label1, label2, greeting], ['s3cret', 'client', 'app="client"', 'team="blue"', 'hello-from-configmap']);
    const claims = JSON.parse(Buffer.from(payload!, 'base64url').toString()) as { sub: string; aud: string[]; 'kubernetes.io': { pod: { name: string } } };
    assert.equal(claims.sub, `system:serviceaccount:${NS}:default`);
    assert.deepEqual(claims.aud, ['sklt-aud']);
    assert.equal(claims['kubernetes.io'].pod.name, 'client');
    assert.equal(note, 'from-host', 'the hostPath volume is the host directory');
  });

  it('a restartPolicy Never pod with a native sidecar completes; a crashing container restarts', async () => {
    await ok('apply', '-f', join(mesh.filesDir, 'job.yaml'));
    await ok('wait', 'pod', 'job', '-n', NS, '--for', 'completed', '--timeout', '90s');
    const job = await getPod('job', NS);
    assert.equal(job.status?.phase, 'Succeeded');
    assert.match(await ok('logs', 'job', '-n', NS, '-c', 'main'), /^prepared\nsecond\njob-done$/m, 'init containers ran in order, each to completion');
    const helper = job.status?.initContainerStatuses?.find((c) => c.name === 'helper');
    assert.ok(helper && 'terminated' in helper.state, 'the sidecar is stopped once the main container is done');
    assert.equal(helper.restartCount, 0);
    const crasher = await eventually('a restart of crasher', async () => {
      const p = await getPod('crasher', NS);
      return (p.status?.containerStatuses?.[0]?.restartCount ?? 0) >= 1 ? p : undefined;
    });
    assert.equal(crasher.status?.phase, 'Running');
    assert.equal((crasher.status?.containerStatuses?.[0]?.lastState as { terminated?: { exitCode: number } }).terminated?.exitCode, 3);
    assert.ok((await ok('logs', 'crasher', '-n', NS)).split('\n').filter((l) => l === 'attempt').length >= 2, 'logs append across restarts');
  });

  it('postStart holds the next container; an exec readiness probe gates readiness; a native sidecar\'s startup probe holds the app; failed liveness restarts', async () => {
    await ok('apply', '-f', join(mesh.filesDir, 'hooks.yaml'));
    await eventually('second container started', async () => {
      const p = await getPod('hooks', NS);
      return p.status?.containerStatuses?.[1] && 'running' in p.status.containerStatuses[1].state ? p : undefined;
    });
    assert.match(await ok('logs', 'hooks', '-n', NS, '-c', 'second'), /^hook-done$/m, 'second started only after first\'s postStart finished');
    const before = await getPod('hooks', NS);
    assert.equal(before.status?.containerStatuses?.[1]?.ready, false, 'not ready while the exec probe fails');
    assert.equal(before.status?.conditions?.find((c) => c.type === 'Ready')?.status, 'False');
    await ok('exec', 'hooks', '-n', NS, '-c', 'second', '--', 'touch', `/tmp/sklt-shared-${MARK}/ready`);
    await ok('wait', 'pod', 'hooks', '-n', NS, '--for', 'ready', '--timeout', '90s');
    // A native sidecar with a startup probe holds the app containers until the probe passes.
    const gate = `/tmp/sklt-gate-${MARK}`;
    await eventually('two failed startup probes of the gated sidecar', async () => {
      const r = await cli('exec', 'gated', '-n', NS, '-c', 'proxy', '--', 'sh', '-c', `cat ${gate}/tries 2>/dev/null || true`);
      return r.stdout.split('\n').filter(Boolean).length >= 2 ? true : undefined;
    });
    const held = (await getPod('gated', NS)).status?.containerStatuses?.find((c) => c.name === 'app');
    assert.ok(!held || !('running' in held.state), `the app started before the sidecar's startup probe passed: ${JSON.stringify(held)}`);
    await ok('exec', 'gated', '-n', NS, '-c', 'proxy', '--', 'touch', `${gate}/open`);
    await ok('wait', 'pod', 'gated', '-n', NS, '--for', 'ready', '--timeout', '90s');
    const released = (await getPod('gated', NS)).status?.containerStatuses?.find((c) => c.name === 'app');
    assert.ok(released && 'running' in released.state, 'the app runs once the startup probe passed');
    const unhealthy = await eventually('a liveness restart', async () => {
      const p = await getPod('unhealthy', NS);
      return (p.status?.containerStatuses?.[0]?.restartCount ?? 0) >= 1 ? p : undefined;
    });
    assert.ok('terminated' in (unhealthy.status!.containerStatuses![0]!.lastState as object));
  });

  it('clear errors: missing namespace, image without command, webhook refusal', async () => {
    const f = join(mesh.filesDir, 'bad.yaml');
    await writeFile(f, `apiVersion: v1\nkind: Pod\nmetadata: { name: x, namespace: sklt-nowhere }\nspec: { containers: [{ name: a, image: b, command: [c] }] }\n---\napiVersion: v1\nkind: Pod\nmetadata: { name: nocmd, namespace: ${NS} }\nspec: { containers: [{ name: app, image: nginx }] }\n---\napiVersion: v1\nkind: Pod\nmetadata: { name: nobin, namespace: ${NS} }\nspec: { containers: [{ name: app, image: x, command: [sklt-no-such-binary] }] }\n`);
    const r = await cli('apply', '-f', f);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /namespace "sklt-nowhere" not found/);
    assert.match(r.stderr, /container app: image "nginx" has no command/);
    assert.match(r.stderr, /container app: "sklt-no-such-binary" is not on this host's PATH/);
    await ok('apply', '-f', join(mesh.filesDir, 'mesh.yaml'));
    const denied = await cli('apply', '-f', join(mesh.filesDir, 'denied.yaml'));
    assert.notEqual(denied.code, 0);
    assert.match(denied.stderr, /admission webhook "namespace\.inject\.skein\.io" denied the request: .*5678/);
    assert.equal((await cli('get', 'pod', 'sneaky', '-n', MESH_NS)).code, 1, 'a refused pod is not stored');
  });

  it('an injected pod gets skein-init and skein-proxy, becomes ready, and its sidecar admin answers', async () => {
    await ok('wait', 'pod', 'meshed', '-n', MESH_NS, '--for', 'ready', '--timeout', '90s');
    const pod = await getPod('meshed', MESH_NS);
    const names = [...(pod.spec.initContainers ?? []), ...pod.spec.containers].map((c) => c.name);
    assert.ok(names.includes('skein-init') && names.includes('skein-proxy'), names.join(','));
    assert.ok(pod.metadata.annotations?.['skein.io/injected']);
    const admin = await cli('admin', 'meshed', '/ready', '-n', MESH_NS);
    assert.equal(admin.code, 0, admin.stderr);
    const proxy = await cli('exec', 'meshed', '-n', MESH_NS, '-c', 'skein-proxy', '--', 'sh', '-c', 'id -u; cut -d. -f2 "$SKEIN_TOKEN_PATH"');
    assert.equal(proxy.code, 0, proxy.stderr);
    const [uid, payload] = proxy.stdout.trim().split('\n');
    assert.equal(uid, '5678');
    const claims = JSON.parse(Buffer.from(payload!, 'base64url').toString()) as { sub: string; aud: string[] };
    assert.equal(claims.sub, `system:serviceaccount:${MESH_NS}:default`);
    assert.deepEqual(claims.aud, ['skein-cp']);
  });

  it('after a daemon crash, up cleans up and starts afresh, and down removes every namespace, link, chain, route and process', async () => {
    const daemonPid = Number(readFileSync(join(stateDir, 'daemon.pid'), 'utf8'));
    process.kill(daemonPid, 'SIGKILL');
    const ours = new RegExp(`(^sleep ${MARK} |(^|/)python3 -m http\\.server 8080 --bind 0\\.0\\.0\\.0 --directory ${stateDir} |^socat TCP-LISTEN:9090,fork,reuseaddr,backlog=${MARK} )`);
    assert.ok(processes(ours).length >= 5, 'containers outlive the daemon');
    const again = await ok('up');
    assert.match(again, /cleaning up after a previous run/);
    assert.match(again, /skein-local is up/);
    assert.deepEqual(processes(ours), [], 'up after a crash stops what the crashed run left');
    assert.equal(existsSync(`/tmp/sklt-scratch-${MARK}`), false, 'mount points created for the pods are removed');
    assert.equal(existsSync(`/tmp/sklt-shared-${MARK}`), false);
    assert.equal((await sh('ip netns list')).split('\n').filter((l) => l.startsWith(`skl-${bridge}-`)).length, 0);
    // A second crash, and this time the journal is lost too: down must find everything by name.
    await ok('apply', '-f', join(mesh.filesDir, 'plain.yaml'));
    await ok('wait', 'pod', 'client', '-n', NS, '--for', 'ready', '--timeout', '90s');
    await ok('wait', 'pod', 'web', '-n', NS, '--for', 'ready', '--timeout', '90s');
    process.kill(Number(readFileSync(join(stateDir, 'daemon.pid'), 'utf8')), 'SIGKILL');
    await rm(join(stateDir, 'journal.jsonl'));
    assert.ok(processes(ours).length >= 2, `containers outlive the second crash: ${processes(ours).join(',')}`);
    assert.match(await ok('down'), /skein-local is down/);
    assert.equal((await sh('ip netns list')).split('\n').filter((l) => l.startsWith(`skl-${bridge}-`)).length, 0);
    assert.doesNotMatch(await sh('ip -o link show'), new RegExp(`\\b${bridge}\\b`));
    assert.doesNotMatch(await sh('iptables-save'), new RegExp(`SKL-${bridge}-`));
    assert.doesNotMatch(await sh('ip route show; ip route show type blackhole'), new RegExp(`10\\.25[01]\\.${n}\\.`));
    assert.deepEqual(processes(ours), []);
    assert.deepEqual(processes(new RegExp(`--state-dir ${stateDir}`)), [], 'neither the daemon nor skein-cp is left');
    assert.equal(existsSync(join(stateDir, 'cp', 'cp.json')), false);

  });
});

/** Pids whose command line matches `re` (read from /proc, so the search never matches itself). */
function processes(re: RegExp): number[] {
  const out: number[] = [];
  for (const d of readdirSync('/proc').filter((x) => /^\d+$/.test(x))) {
    try {
      if (re.test(readFileSync(`/proc/${d}/cmdline`, 'utf8').replace(/\0/g, ' '))) out.push(Number(d));
    } catch { /* exited */ }
  }
  return out;
}

function web(): string {
  const rec = JSON.parse(readFileSync(join(stateDir, 'runtime', `${NS}_web.json`), 'utf8')) as { podIP: string };
  return rec.podIP.replace(/\./g, '\\.');
}
