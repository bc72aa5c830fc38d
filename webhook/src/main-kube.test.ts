// skein-cp --mode kubernetes as a real process, without a cluster (none exists on this machine): what
// it does when the API server is absent. Against a (validating, in-memory) API server: main-kube-apiserver.test.ts.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { httpGet } from './testing/http-get.js';

const MAIN = fileURLToPath(new URL('./main.js', import.meta.url));
const dirs: string[] = [];
const children = new Set<ChildProcess>();
after(async () => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

function run(args: string[]): { child: ChildProcess; output: () => string; exited: Promise<number | null> } {
  const child = spawn(process.execPath, [MAIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, POD_NAME: 'skein-cp-test-0' } });
  children.add(child);
  let out = '';
  child.stdout?.on('data', (b: Buffer) => (out += b.toString()));
  child.stderr?.on('data', (b: Buffer) => (out += b.toString()));
  return { child, output: () => out, exited: new Promise((resolve) => child.on('exit', (code) => resolve(code))) };
}

async function closedLoopbackPort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const { port } = s.address() as AddressInfo;
  await new Promise((r) => s.close(r));
  return port;
}

test('a kubeconfig that does not exist: exit 1 with a stable code', async () => {
  const p = run(['--kubeconfig', '/nonexistent/skein/kubeconfig', '--health-port', '0', '--webhook-port', '0', '--grpc-port', '0']);
  assert.equal(await p.exited, 1);
  assert.match(p.output(), /SKEIN_CP_KUBE/);
  assert.match(p.output(), /--kubeconfig/);
});

test('API server unreachable: the process stays up, /healthz 200, /readyz 503 until a certificate exists; SIGTERM exits 0', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'sk-ut-cpk-'));
  dirs.push(dir);
  const kubeconfig = join(dir, 'kubeconfig');
  await writeFile(kubeconfig, [
    'apiVersion: v1', 'kind: Config', 'current-context: none',
    'clusters: [{ name: none, cluster: { server: "https://127.0.0.1:' + String(await closedLoopbackPort()) + '", insecure-skip-tls-verify: true } }]',
    'users: [{ name: none, user: { token: not-a-real-token } }]',
    'contexts: [{ name: none, context: { cluster: none, user: none } }]', '',
  ].join('\n'), { mode: 0o600 });
  const p = run(['--kubeconfig', kubeconfig, '--bind-address', '127.0.0.1', '--health-port', '0', '--webhook-port', '0', '--grpc-port', '0']);
  const deadline = Date.now() + 20_000; // failure guard only
  let healthPort = 0;
  while (healthPort === 0) {
    const m = /"listener":"health","address":"127\.0\.0\.1","port":(\d+)/.exec(p.output());
    if (m?.[1]) healthPort = Number(m[1]);
    else if (Date.now() > deadline || p.child.exitCode !== null) throw new Error(`no health listener:\n${p.output()}`);
    else await new Promise((r) => setTimeout(r, 50));
  }
  assert.equal((await httpGet(healthPort, '/healthz')).status, 200);
  // The first TLS sync runs right after start; wait until it has been tried (and failed) at least once.
  while (!/TLS secret sync failed|waiting for the leader/.test(p.output())) {
    if (Date.now() > deadline) throw new Error(`no TLS sync attempt logged:\n${p.output()}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  const ready = await httpGet(healthPort, '/readyz');
  assert.equal(ready.status, 503);
  assert.match(ready.body, /serving certificate/);
  assert.doesNotMatch(p.output(), /not-a-real-token/);
  assert.doesNotMatch(p.output(), /"listener":"webhook"/);
  p.child.kill('SIGTERM');
  assert.equal(await p.exited, 0);
});
