// skein-cp as a real process in local mode: cp.json + webhook-ca.pem per docs/contracts.md, an
// AdmissionReview over HTTPS verified against webhook-ca.pem, health endpoints, graceful SIGTERM with a
// request in flight, CA reuse across restarts, bad flags. Needs the build (dist/main.js).
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { request as httpsRequest } from 'node:https';
import { request as httpRequest } from 'node:http';
import { connect as tlsConnect, type TLSSocket } from 'node:tls';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { typicalPodReview } from './bench/review.js';

const MAIN = fileURLToPath(new URL('./main.js', import.meta.url));
const dirs: string[] = [];
const children = new Set<ChildProcess>();
after(async () => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

interface CpJson { pid: number; webhookPort: number; grpcPort: number; healthPort: number; bindAddress: string }
interface Running { child: ChildProcess; cp: CpJson; ca: string; output: () => string; exited: Promise<number | null> }

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function startCp(stateDir: string, extraArgs: readonly string[] = []): Promise<Running> {
  const child = spawn(process.execPath, [MAIN, '--mode', 'local', '--state-dir', stateDir, '--webhook-port', '0', '--health-port', '0', '--grpc-port', '0', ...extraArgs], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.add(child);
  let out = '';
  child.stdout?.on('data', (b: Buffer) => (out += b.toString()));
  child.stderr?.on('data', (b: Buffer) => (out += b.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const deadline = Date.now() + 20_000; // failure guard only
  for (;;) {
    try {
      const cp = JSON.parse(await readFile(join(stateDir, 'cp.json'), 'utf8')) as CpJson;
      if (cp.pid === child.pid) return { child, cp, ca: await readFile(join(stateDir, 'webhook-ca.pem'), 'utf8'), output: () => out, exited };
    } catch { /* not written yet */ }
    if (child.exitCode !== null || Date.now() > deadline) throw new Error(`skein-cp did not write cp.json:\n${out}`);
    await sleep(50);
  }
}

function postReview(r: Running, host: string, servername: string, body: unknown): Promise<{ status: number; json: Record<string, unknown> }> {
  const data = JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const req = httpsRequest({
      host, servername, port: r.cp.webhookPort, method: 'POST', path: '/inject', ca: r.ca, agent: false,
      headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(data) },
    }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (text += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, json: JSON.parse(text) as Record<string, unknown> }));
    });
    req.on('error', reject);
    req.end(data);
  });
}

function getHealth(r: Running, path: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: '127.0.0.1', port: r.cp.healthPort, path, agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

test('local mode: state files, HTTPS admission verified against webhook-ca.pem, health, clean SIGTERM', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'sk-ut-cp-'));
  dirs.push(dir);
  const r = await startCp(join(dir, 'state'));
  assert.equal(r.cp.bindAddress, '127.0.0.1');
  for (const p of [r.cp.webhookPort, r.cp.grpcPort, r.cp.healthPort]) assert.ok(p > 0 && p < 65536);
  assert.equal(new Set([r.cp.webhookPort, r.cp.grpcPort, r.cp.healthPort]).size, 3);

  const state = join(dir, 'state');
  assert.equal((await stat(join(state, 'ca', 'ca-key.pem'))).mode & 0o777, 0o600);
  assert.equal((await stat(join(state, 'ca'))).mode & 0o077, 0);
  assert.equal((await stat(join(state, 'webhook-ca.pem'))).mode & 0o777, 0o644);
  const cpText = await readFile(join(state, 'cp.json'), 'utf8');
  assert.doesNotMatch(cpText, /PRIVATE KEY|BEGIN/);
  assert.deepEqual(Object.keys(JSON.parse(cpText) as object).sort(), ['bindAddress', 'grpcPort', 'healthPort', 'pid', 'webhookPort']);

  for (const [host, servername] of [['127.0.0.1', 'localhost'], ['localhost', 'localhost'], ['127.0.0.1', '']] as const) {
    const res = await postReview(r, host, servername, typicalPodReview(`uid-${host}-${servername}`));
    assert.equal(res.status, 200);
    const response = res.json['response'] as { uid: string; allowed: boolean; patchType?: string };
    assert.equal(response.uid, `uid-${host}-${servername}`);
    assert.equal(response.allowed, true);
    assert.equal(response.patchType, 'JSONPatch');
  }
  // The serving certificate is not valid for other names: real verification, not rejectUnauthorized:false.
  await assert.rejects(postReview(r, '127.0.0.1', 'example.com', typicalPodReview('x')), /altnames|Hostname/);

  assert.equal((await getHealth(r, '/healthz')).status, 200);
  assert.equal((await getHealth(r, '/readyz')).status, 200);
  const metrics = (await getHealth(r, '/metrics')).body;
  assert.match(metrics, /^skein_admissions_total\{decision="inject",reason="[^"]+"\} 3$/m);
  assert.match(metrics, /^process_cpu_user_seconds_total /m);
  assert.match(metrics, /^skein_cp_serving_cert_expiry_timestamp_seconds \d/m);
  assert.equal((await getHealth(r, '/nope')).status, 404);

  r.child.kill('SIGTERM');
  assert.equal(await r.exited, 0);
  await assert.rejects(stat(join(state, 'cp.json')), /ENOENT/);
  const logs = r.output();
  const key = await readFile(join(state, 'ca', 'ca-key.pem'), 'utf8');
  assert.doesNotMatch(logs, /PRIVATE KEY/);
  assert.ok(!logs.includes(key.split('\n')[1] ?? 'unreachable'), 'no key material in logs');
  for (const listener of ['health', 'grpc', 'webhook']) assert.match(logs, new RegExp(`"listener":"${listener}"`));
});

test('SIGTERM with a request in flight: new connections refused, the request finishes, exit 0 (regression: a busy keep-alive connection held the drain for the whole grace period)', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'sk-ut-cp-'));
  dirs.push(dir);
  const r = await startCp(dir);
  const body = JSON.stringify(typicalPodReview('inflight'));
  const sock: TLSSocket = await new Promise((resolve, reject) => {
    const s = tlsConnect({ host: '127.0.0.1', port: r.cp.webhookPort, servername: 'localhost', ca: r.ca }, () => resolve(s));
    s.on('error', reject);
  });
  let reply = '';
  sock.setEncoding('utf8');
  sock.on('data', (c: string) => (reply += c));
  const closed = new Promise<void>((resolve) => sock.on('close', () => resolve()));
  const half = Math.floor(body.length / 2);
  sock.write(`POST /inject HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body.slice(0, half)}`);
  await sleep(100); // let the server start the request (failure would show as a refused/reset below)
  r.child.kill('SIGTERM');
  const deadline = Date.now() + 10_000;
  while ((await getHealth(r, '/readyz').catch(() => ({ status: 0 }))).status !== 503) {
    if (Date.now() > deadline) throw new Error('never became unready after SIGTERM');
    await sleep(20);
  }
  await assert.rejects(new Promise((resolve, reject) => {
    const s = tlsConnect({ host: '127.0.0.1', port: r.cp.webhookPort, servername: 'localhost', ca: r.ca }, () => { s.end(); resolve(undefined); });
    s.on('error', reject);
  }), /ECONNREFUSED/);
  sock.write(body.slice(half));
  await closed;
  assert.match(reply, /^HTTP\/1\.1 200 /);
  assert.match(reply, /"uid":"inflight"/);
  assert.match(reply, /Connection: close/i);
  assert.equal(await r.exited, 0);
});

test('a restart reuses the CA in the state directory', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'sk-ut-cp-'));
  dirs.push(dir);
  const a = await startCp(dir);
  a.child.kill('SIGTERM');
  assert.equal(await a.exited, 0);
  const b = await startCp(dir);
  assert.equal(b.ca, a.ca);
  const res = await postReview(b, '127.0.0.1', 'localhost', typicalPodReview('again'));
  assert.equal(res.status, 200);
  b.child.kill('SIGTERM');
  assert.equal(await b.exited, 0);
});

/** The paths of the patch's list insertions: where skein-proxy went decides classic vs native. */
async function proxyPlacement(r: Running, restartPolicy: string): Promise<string[]> {
  const review = typicalPodReview(`uid-${restartPolicy}`) as { request: { object: { spec: Record<string, unknown> } } };
  review.request.object.spec['restartPolicy'] = restartPolicy;
  const res = await postReview(r, '127.0.0.1', 'localhost', review);
  const response = res.json['response'] as { patch: string };
  const ops = JSON.parse(Buffer.from(response.patch, 'base64').toString('utf8')) as Array<{ op: string; path: string; value: unknown }>;
  const isProxy = (v: unknown): boolean => (v as { name?: unknown } | null)?.name === 'skein-proxy';
  // A list the pod did not have is added whole (`add /spec/initContainers [...]`); an existing one gets items.
  return ops.flatMap((o) => Array.isArray(o.value)
    ? o.value.flatMap((v, i) => (isProxy(v) ? [`${o.path}/${i}`] : []))
    : isProxy(o.value) ? [o.path] : []);
}

test('--native-sidecar and --dataplane-image reach the injector: local auto gives Jobs a native sidecar, false gives everyone the classic one', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'sk-ut-cp-'));
  dirs.push(dir);
  const auto = await startCp(join(dir, 'auto'));
  assert.deepEqual(await proxyPlacement(auto, 'Always'), ['/spec/containers/0']);
  assert.deepEqual(await proxyPlacement(auto, 'Never'), ['/spec/initContainers/1']);
  auto.child.kill('SIGTERM');
  assert.equal(await auto.exited, 0);
  const off = await startCp(join(dir, 'off'), ['--native-sidecar', 'false']);
  assert.deepEqual(await proxyPlacement(off, 'Never'), ['/spec/containers/0']);
  off.child.kill('SIGTERM');
  assert.equal(await off.exited, 0);
  const image = 'registry.example.com/skein/dataplane:9.9.9';
  const on = await startCp(join(dir, 'on'), ['--native-sidecar', 'true', '--dataplane-image', image]);
  assert.deepEqual(await proxyPlacement(on, 'Always'), ['/spec/initContainers/1']);
  const res = await postReview(on, '127.0.0.1', 'localhost', typicalPodReview('image'));
  const patch = Buffer.from((res.json['response'] as { patch: string }).patch, 'base64').toString('utf8');
  assert.equal(patch.match(/"image":"registry\.example\.com\/skein\/dataplane:9\.9\.9"/g)?.length, 2, 'skein-init and skein-proxy use --dataplane-image');
  assert.doesNotMatch(patch, /"skein\/dataplane:/);
  on.child.kill('SIGTERM');
  assert.equal(await on.exited, 0);
});

test('bad flags exit 2 with a message naming the flag; --help exits 0', () => {
  const run = (...args: string[]): { status: number | null; stderr: string; stdout: string } => {
    const r = spawnSync(process.execPath, [MAIN, ...args], { encoding: 'utf8', timeout: 20_000 });
    return { status: r.status, stderr: r.stderr, stdout: r.stdout };
  };
  const cases: [string[], RegExp][] = [
    [['--webhook-port', 'abc'], /--webhook-port/],
    [['--mode', 'local'], /--state-dir/],
    [['--mode', 'cloud'], /--mode/],
    [['--bogus'], /--bogus/],
    [['--native-sidecar', 'maybe'], /--native-sidecar/],
  ];
  for (const [args, flag] of cases) {
    const r = run(...args);
    assert.equal(r.status, 2, args.join(' '));
    assert.match(r.stderr, flag);
    assert.match(r.stderr, /^skein-cp: /);
  }
  const help = run('--help');
  assert.equal(help.status, 0);
  assert.match(help.stdout, /--state-dir DIR/);
});
