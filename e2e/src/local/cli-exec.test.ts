// skein-local's command line as kubectl users expect it, end to end on this host: `exec` enters the
// default container (annotation, else the first app container) with its volumes, user, groups, working
// dir and env, passes stdin with -i and returns the command's exit code; `logs` and `get -o json` reach
// a pipe whole; `down` reports what was there; errors name the object and what to do. Own instance
// (LocalMesh, `sklt<N>` bridge, 10.250.n/10.251.n), driven only through the CLI.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { chmodSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { LocalMesh } from '../suite/harness/local-mesh.js';
import { CLI } from '../suite/harness/paths.js';
import { pollUntil } from '../suite/harness/poll.js';
import { run, type RunResult } from '../suite/harness/run.js';
import { teardownOnSignals } from '../suite/harness/suite.js';
import type { Pod } from './model/types.js';

const mesh = new LocalMesh('cli', { bridgePrefix: 'sklt', podNet: '10.250', serviceNet: '10.251' });
const NS = 'sklc-plain';
const MESH_NS = 'sklc-mesh';
const BIG_NS = 'sklc-big';
const MARK = `${5000 + (process.pid % 1000)}`; // unique sleep arguments, to find our container processes
const DATA = join(mesh.filesDir, 'data'); // emptyDir mount point, in `main` only
const CFG = join(mesh.filesDir, 'cfg'); // configMap mount point, in `main` / `app` only
const WORK = join(mesh.filesDir, 'work'); // workingDir of `main`
/** base64 of 3,750,000 random bytes in 76-column lines: 5,000,000 characters + 65,790 newlines. */
const BIG_LOG_BYTES = 5_065_790;

const cli = (args: string[], input?: string): Promise<RunResult> => mesh.cli(args, { timeoutMs: 120_000, ...(input !== undefined ? { input } : {}) });

async function ok(...args: string[]): Promise<string> {
  const r = await cli(args);
  assert.equal(r.code, 0, `skein-local ${args.join(' ')} failed:\n${r.stdout}\n${r.stderr}`);
  return r.stdout;
}

/**
 * The CLI through a real shell pipe: `skein-local ARGS | PIPE`; the instance is named by flags, with
 * the bridge and ranges its state dir records (as scripts/sweep-test-leftovers.sh does).
 */
function piped(args: string[], pipe: string): Promise<RunResult> {
  const q = (s: string): string => `'${s.replace(/'/g, `'\\''`)}'`;
  const rec = JSON.parse(readFileSync(join(mesh.stateDir, 'instance.json'), 'utf8')) as { bridge: string; podCidr: string; serviceCidr: string };
  const flags = ['--state-dir', mesh.stateDir, '--bridge', rec.bridge, '--pod-cidr', rec.podCidr, '--service-cidr', rec.serviceCidr];
  return run('sh', ['-c', `${[process.execPath, CLI, ...flags, ...args].map(q).join(' ')} | ${pipe}`], { timeoutMs: 120_000 });
}

async function sh(cmd: string): Promise<string> {
  return (await run('sh', ['-c', cmd])).stdout;
}

/** Pids whose command line is exactly `sleep ARG`. */
async function sleeping(arg: string): Promise<number[]> {
  return (await sh(`pgrep -x -f 'sleep ${arg}' || true`)).split('\n').filter(Boolean).map(Number);
}

function statusField(pid: number, field: string): string {
  return new RegExp(`^${field}:\\s*(.*)$`, 'm').exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1]?.trim() ?? '';
}

const PLAIN = `
apiVersion: v1
kind: Namespace
metadata: { name: ${NS} }
---
apiVersion: v1
kind: ConfigMap
metadata: { name: settings, namespace: ${NS} }
data: { greeting: hello-cfg }
---
apiVersion: v1
kind: Pod
metadata:
  name: two
  namespace: ${NS}
  annotations: { kubectl.kubernetes.io/default-container: main }
spec:
  securityContext: { runAsUser: 1000, runAsGroup: 3000, supplementalGroups: [4000, 4001] }
  containers:
    - name: first
      image: busybox
      command: ["sleep", "${MARK}1"]
      securityContext: { runAsUser: 2000 }
    - name: main
      image: busybox
      command: ["sh", "-c", "echo from-main > ${DATA}/mark && exec sleep ${MARK}2"]
      workingDir: ${WORK}
      env: [{ name: SKLC_GREETING, value: "hello-${MARK}" }]
      volumeMounts:
        - { name: data, mountPath: ${DATA} }
        - { name: cfg, mountPath: ${CFG}, readOnly: true }
  volumes:
    - { name: data, emptyDir: {} }
    - { name: cfg, configMap: { name: settings } }
---
apiVersion: v1
kind: Pod
metadata: { name: pair, namespace: ${NS} }
spec:
  containers:
    - { name: a, image: busybox, command: ["sh", "-c", "echo from-a; exec sleep ${MARK}5"] }
    - { name: b, image: busybox, command: ["sleep", "${MARK}6"] }
---
apiVersion: v1
kind: Pod
metadata: { name: big, namespace: ${NS} }
spec:
  containers:
    - name: app
      image: busybox
      command: ["sh", "-c", "head -c 3750000 /dev/urandom | base64 -w 76; exec sleep ${MARK}4"]
---
apiVersion: v1
kind: Pod
metadata: { name: done, namespace: ${NS} }
spec:
  restartPolicy: Never
  containers: [{ name: app, image: busybox, command: ["true"] }]
`;

const MESHED = `
apiVersion: v1
kind: Namespace
metadata: { name: ${MESH_NS}, labels: { skein.io/inject: enabled } }
---
apiVersion: v1
kind: ConfigMap
metadata: { name: settings, namespace: ${MESH_NS} }
data: { greeting: hello-mesh }
---
apiVersion: v1
kind: Pod
metadata: { name: meshed, namespace: ${MESH_NS} }
spec:
  securityContext: { runAsUser: 1000 }
  containers:
    - name: app
      image: busybox
      command: ["sleep", "${MARK}3"]
      volumeMounts: [{ name: cfg, mountPath: ${CFG}, readOnly: true }]
  volumes: [{ name: cfg, configMap: { name: settings } }]
`;

/** 120 ConfigMaps of 10 kB each: `get -o json` writes about 1.3 MB, twenty times a pipe's buffer. */
function bigNamespace(): string {
  const docs = [`apiVersion: v1\nkind: Namespace\nmetadata: { name: ${BIG_NS} }`];
  for (let i = 0; i < 120; i++) docs.push(`apiVersion: v1\nkind: ConfigMap\nmetadata: { name: cm-${i}, namespace: ${BIG_NS} }\ndata: { blob: "${String(i).padStart(3, '0').repeat(3334)}" }`);
  return `${docs.join('\n---\n')}\n`;
}

describe('skein-local command line (exec, logs, get, down, errors)', { timeout: 600_000 }, () => {
  let release = (): void => undefined;
  before(async () => {
    release = teardownOnSignals(mesh, 'cli-exec');
    mkdirSync(WORK, { recursive: true });
    await mesh.up();
    for (const [file, text] of [['plain.yaml', PLAIN], ['meshed.yaml', MESHED], ['big.yaml', bigNamespace()]] as const) {
      writeFileSync(join(mesh.filesDir, file), text);
      await ok('apply', '-f', join(mesh.filesDir, file));
    }
    for (const p of ['two', 'pair', 'big']) await ok('wait', 'pod', p, '-n', NS, '--for', 'ready', '--timeout', '90s');
    await ok('wait', 'pod', 'done', '-n', NS, '--for', 'completed', '--timeout', '90s');
    await ok('wait', 'pod', 'meshed', '-n', MESH_NS, '--for', 'ready', '--timeout', '120s');
  }, { timeout: 300_000 });
  after(async () => {
    release();
    const problem = await mesh.destroy();
    if (problem) console.error(`cli-exec: cleanup problem: ${problem}`);
  }, { timeout: 150_000 });

  it('exec without -c enters the annotated container: its volumes, user, groups, working dir and env', async () => {
    const r = await cli(['exec', 'two', '-n', NS, '--', 'sh', '-c', `id -u; id -G; pwd; echo "$SKLC_GREETING"; cat ${DATA}/mark; cat ${CFG}/greeting; echo`]);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(r.stdout.trim().split('\n'), ['1000', '3000 4000 4001', WORK, `hello-${MARK}`, 'from-main', 'hello-cfg']);
    assert.doesNotMatch(r.stderr, /Defaulted/, 'a container named by the annotation is taken silently, as kubectl');
    // The same user and groups as the container's own process.
    const [pid] = await sleeping(`${MARK}2`);
    assert.ok(pid, 'the container process of main');
    assert.equal(statusField(pid, 'Uid').split(/\s+/)[0], '1000');
    assert.equal(`${statusField(pid, 'Gid').split(/\s+/)[0]} ${statusField(pid, 'Groups')}`, '3000 4000 4001');
    // -c picks another container: its own user, and main's volume is not mounted there.
    const first = await cli(['exec', 'two', '-n', NS, '-c', 'first', '--', 'sh', '-c', `id -u; test -e ${DATA}/mark && echo visible || echo absent`]);
    assert.equal(first.code, 0, first.stderr);
    assert.deepEqual(first.stdout.trim().split('\n'), ['2000', 'absent']);
  });

  it('exec and logs in an injected pod default to the app container, never skein-proxy unless asked', async () => {
    const pod = JSON.parse(await ok('get', 'pod', 'meshed', '-n', MESH_NS, '-o', 'json')) as Pod;
    assert.equal(pod.metadata.annotations?.['kubectl.kubernetes.io/default-container'], 'app', 'the injector names the app container');
    const names = [...pod.spec.containers, ...(pod.spec.initContainers ?? [])].map((c) => c.name);
    assert.ok(names.includes('skein-proxy'), names.join(','));
    const r = await cli(['exec', 'meshed', '-n', MESH_NS, '--', 'sh', '-c', `id -u; cat ${CFG}/greeting; echo`]);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(r.stdout.trim().split('\n'), ['1000', 'hello-mesh']);
    assert.doesNotMatch(r.stderr, /Defaulted/);
    const proxy = await cli(['exec', 'meshed', '-n', MESH_NS, '-c', 'skein-proxy', '--', 'sh', '-c', `id -u; test -e ${CFG}/greeting && echo visible || echo absent`]);
    assert.equal(proxy.code, 0, proxy.stderr);
    assert.deepEqual(proxy.stdout.trim().split('\n'), ['5678', 'absent'], 'the sidecar as its own user, without the app\'s volume');
    const logs = await cli(['logs', 'meshed', '-n', MESH_NS]);
    assert.equal(logs.code, 0, logs.stderr);
    assert.doesNotMatch(logs.stderr, /Defaulted/);
    assert.doesNotMatch(logs.stdout, /"level"/, 'not the sidecar\'s (JSON) log');
  });

  it('without the annotation, exec and logs take the first container and say so on stderr, as kubectl', async () => {
    const r = await cli(['exec', 'pair', '-n', NS, '--', 'sh', '-c', 'cat /proc/1/comm >/dev/null; echo ok']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /^Defaulted container "a" out of: a, b$/m);
    const logs = await cli(['logs', 'pair', '-n', NS]);
    assert.equal(logs.code, 0, logs.stderr);
    assert.equal(logs.stdout, 'from-a\n');
    assert.match(logs.stderr, /^Defaulted container "a" out of: a, b$/m);
  });

  it('exec -i passes stdin through; without -i the command reads nothing', async () => {
    const big = 'x'.repeat(1_000_000);
    const r = await cli(['exec', '-i', 'two', '-n', NS, '--', 'sh', '-c', 'wc -c'], big);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout.trim(), '1000000');
    const echo = await cli(['exec', 'two', '-n', NS, '--stdin', '--', 'cat'], 'piped-in\n');
    assert.equal(echo.stdout, 'piped-in\n');
    const none = await cli(['exec', 'two', '-n', NS, '--', 'cat'], 'not for you\n');
    assert.equal(none.code, 0, none.stderr);
    assert.equal(none.stdout, '', 'stdin is not passed without -i');
  });

  it('exec returns the command\'s exit code: its own, 127 not found, 126 not executable', async () => {
    const seven = await cli(['exec', 'two', '-n', NS, '--', 'sh', '-c', 'exit 7']);
    assert.equal(seven.code, 7);
    assert.match(seven.stderr, /command terminated with exit code 7/);
    assert.equal((await cli(['exec', 'two', '-n', NS, '--', 'sklc-no-such-command'])).code, 127);
    const notExec = join(WORK, 'not-executable');
    writeFileSync(notExec, 'echo never\n');
    chmodSync(notExec, 0o644);
    assert.equal((await cli(['exec', 'two', '-n', NS, '--', notExec])).code, 126);
  });

  it('a 5 MB log through a real shell pipe arrives whole, also to a slow reader', async () => {
    const file = join(mesh.stateDir, 'logs', NS, 'big', 'app.log');
    await pollUntil(async () => (statSync(file).size === BIG_LOG_BYTES ? true : undefined), { what: 'the 5 MB log to be written', timeoutMs: 60_000 });
    const want = createHash('sha256').update(readFileSync(file)).digest('hex');
    const count = await piped(['logs', 'big', '-n', NS], 'wc -c');
    assert.equal(count.stderr, '');
    assert.equal(count.stdout.trim(), String(BIG_LOG_BYTES));
    const sum = await piped(['logs', 'big', '-n', NS], '(sleep 1; sha256sum)');
    assert.equal(sum.stdout.split(' ')[0], want);
    // A reader that stops early (| head) ends the CLI quietly, as it does cat.
    const head = await piped(['logs', 'big', '-n', NS], 'head -c 100');
    assert.equal(head.stdout.length, 100);
    assert.equal(head.stderr, '');
  });

  it('get -o json of a large namespace through a pipe arrives whole and parses', async () => {
    const r = await piped(['get', 'configmaps', '-n', BIG_NS, '-o', 'json'], '(sleep 1; cat)');
    assert.equal(r.stderr, '');
    assert.ok(r.stdout.length > 1_000_000, `${r.stdout.length} bytes`);
    const list = JSON.parse(r.stdout) as { items: { metadata: { name: string } }[] };
    assert.equal(list.items.filter((o) => o.metadata.name.startsWith('cm-')).length, 120);
  });

  it('errors name the object and what to do; usage errors exit 2, the others 1', async () => {
    const expect = async (args: string[], code: number, pattern: RegExp): Promise<void> => {
      const r = await cli(args);
      assert.equal(r.code, code, `skein-local ${args.join(' ')}: ${r.stderr}`);
      assert.match(r.stderr, pattern, `skein-local ${args.join(' ')}`);
    };
    await expect(['exec', 'nosuch', '-n', NS, '--', 'true'], 1, /pod "nosuch" not found in namespace "sklc-plain": see `skein-local get pods -n sklc-plain`/);
    await expect(['exec', 'two', '-n', NS, '-c', 'nope', '--', 'true'], 1, /container "nope" not found in pod sklc-plain\/two: its containers are first, main; pass one of them with -c/);
    await expect(['exec', 'done', '-n', NS, '--', 'true'], 1,
      /container "app" of pod sklc-plain\/done is not running: terminated \(Completed, exit code 0\); exec needs a running container — see `skein-local get pod done -n sklc-plain` and `skein-local logs done -n sklc-plain -c app`/);
    await expect(['logs', 'two', '-n', NS, '-c', 'nope'], 1, /container "nope" not found in pod sklc-plain\/two/);
    await expect(['admin', 'two', '/ready', '-n', NS], 1, /pod sklc-plain\/two has no skein-proxy sidecar.*label its namespace skein\.io\/inject=enabled/);
    await expect(['get', 'pod', 'nosuch', '-n', NS], 1, /pods "nosuch" not found in namespace "sklc-plain": see `skein-local get pods -n sklc-plain`/);
    await expect(['get', 'widgets'], 1, /unknown kind "widgets": skein-local serves Namespace, Pod/);
    await expect(['wait', 'pod', 'two', '-n', NS, '--for', 'completed', '--timeout', '1s'], 1,
      /timed out after 1s waiting for completed on pod two \(two: Running\): see `skein-local get pod two -n sklc-plain -o json` and `skein-local logs two -n sklc-plain`/);
    await expect(['exec', 'two', '-n', NS], 2, /usage: skein-local exec POD/);
    await expect(['get', 'pods', '--bogus'], 2, /Unknown option '--bogus'.*see skein-local --help/);
    await expect(['frobnicate'], 2, /unknown command "frobnicate": the commands are up, apply/);
    await expect(['wait', 'pod', 'two', '-n', NS, '--for', 'eventually'], 2, /--for eventually: use --for ready or --for completed/);
    await expect(['get', 'pods', '-o', 'yaml'], 2, /-o yaml: use -o json or -o wide/);
    await expect(['--pod-cidr', 'nonsense', 'get', 'pods'], 2, /--pod-cidr "nonsense"/);
    await expect(['--bridge', 'skltother', 'get', 'pods'], 1, /state dir .* belongs to the node with bridge .*: pass the same --bridge/);
    const empty = join(mesh.workDir, 'no-instance');
    for (const cmd of [['get', 'pods'], ['logs', 'two']]) {
      const r = await run(process.execPath, [CLI, '--state-dir', empty, '--bridge', 'skltnone', ...cmd], { timeoutMs: 30_000 });
      assert.equal(r.code, 1, r.stderr);
      assert.match(r.stderr, /^skein-local: no node is up with state dir .*no-instance .*run `skein-local up`.*or pass the --state-dir of the running node$/m);
    }
  });

  it('down reports every pod, process, namespace, link, chain and route that was there, and leaves none', async () => {
    const pods = (JSON.parse(await ok('get', 'pods', '-A', '-o', 'json')) as { items: Pod[] }).items;
    const running = pods.flatMap((p) => [...(p.status?.containerStatuses ?? []), ...(p.status?.initContainerStatuses ?? [])])
      .filter((c) => 'running' in c.state).length;
    const netnsPrefix = `skl-${mesh.bridge}-`;
    const linkPrefix = `k${createHash('sha256').update(mesh.bridge).digest('hex').slice(0, 6)}`;
    const inventory = async (): Promise<{ netns: string[]; links: string[]; chains: string[] }> => ({
      netns: (await sh('ip netns list')).split('\n').map((l) => l.split(' ')[0]!).filter((x) => x.startsWith(netnsPrefix)),
      links: (await sh('ip -o link show')).split('\n').map((l) => /^\d+: ([^:@]+)/.exec(l)?.[1] ?? '')
        .filter((x) => x.startsWith(linkPrefix) || x === mesh.bridge),
      chains: (await sh('iptables-save; ip6tables-save 2>/dev/null || true')).split('\n').filter((l) => l.startsWith(`:SKL-${mesh.bridge}-`)),
    });
    const was = await inventory();
    const routes = readFileSync(join(mesh.stateDir, 'journal.jsonl'), 'utf8').split('\n').filter((l) => l.includes('"t":"route"')).length;
    assert.equal(was.netns.length, pods.length, 'one network namespace per pod');
    const out = await ok('down');
    const m = /skein-local is down: (\d+) pods? stopped \((\d+) process(?:es)?\); (\d+) network namespaces?, (\d+) links?, (\d+) iptables chains?, (\d+) routes? removed/.exec(out);
    assert.ok(m, out);
    const [, nPods, nProcs, nNetns, nLinks, nChains, nRoutes] = m.map(Number);
    assert.equal(nPods, pods.length, out);
    assert.equal(nProcs, running + 2, `${out} (${running} running containers + skein-cp + the daemon)`);
    assert.equal(nNetns, was.netns.length, out);
    assert.equal(nLinks, was.links.length, `${out}: ${was.links.join(',')}`);
    assert.equal(nChains, was.chains.length, `${out}: ${was.chains.join(',')}`);
    assert.equal(nRoutes, routes, out);
    assert.deepEqual(await inventory(), { netns: [], links: [], chains: [] });
    for (const arg of ['1', '2', '3', '4', '5', '6']) assert.deepEqual(await sleeping(`${MARK}${arg}`), [], `sleep ${MARK}${arg} is stopped`);
  });
});
