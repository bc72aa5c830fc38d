import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import net from 'node:net';
import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { listenOn, closeServer, waitFor } from '../proxy/testing.js';

const MAIN = fileURLToPath(new URL('../main.js', import.meta.url));
const runFile = promisify(execFile);

function get(port: number, path: string): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, path, agent: false }, (res) => {
      let body = '';
      res.on('data', (c: Buffer) => { body += c.toString(); });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

function tryConnect(port: number): Promise<string> {
  return new Promise((resolve) => {
    const s = net.connect(port, '127.0.0.1', () => { s.destroy(); resolve('connected'); });
    s.on('error', (e: NodeJS.ErrnoException) => resolve(e.code ?? 'error'));
  });
}

interface SpawnedProxy { child: ChildProcess; lines: Array<Record<string, unknown>>; ports: Record<string, number>; exited: Promise<number | null> }

/** `skein-dp run` on free loopback ports, every captured connection sent to `upstreamPort`; its JSON log lines are collected. */
async function spawnProxy(upstreamPort: number, flags: string[]): Promise<SpawnedProxy> {
  const child = spawn(process.execPath, [MAIN, 'run', '--outbound-port', '0', '--inbound-port', '0', '--admin-port', '0',
    '--health-port', '0', '--bind-address', '127.0.0.1', ...flags], {
    env: { ...process.env, POD_IP: '127.0.0.1', SKEIN_DP_ORIG_DST_OVERRIDE: `127.0.0.1:${upstreamPort}` },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const spawned: SpawnedProxy = { child, lines: [], ports: {}, exited: new Promise((resolve) => child.once('exit', (code) => resolve(code))) };
  let buffer = '';
  child.stdout?.on('data', (c: Buffer) => {
    buffer += c.toString();
    let nl;
    while ((nl = buffer.indexOf('\n')) >= 0) {
      const line = JSON.parse(buffer.slice(0, nl)) as Record<string, unknown>;
      buffer = buffer.slice(nl + 1);
      spawned.lines.push(line);
      if (line['msg'] === 'listening') spawned.ports[line['listener'] as string] = line['port'] as number;
    }
  });
  return spawned;
}

describe('skein-dp entry point', () => {
  it('--help exits 0 with usage; an unknown command exits 2; a bad run flag exits 2 naming it', async () => {
    const help = await runFile(process.execPath, [MAIN, '--help']);
    assert.match(help.stdout, /skein-dp <command>/);
    const unknown = await runFile(process.execPath, [MAIN, 'proxy']).then(() => 0, (e: { code: number }) => e.code);
    assert.equal(unknown, 2);
    const bad = await runFile(process.execPath, [MAIN, 'run', '--detect-timeout', 'fast']).then(
      () => ({ code: 0, stderr: '' }), (e: { code: number; stderr: string }) => ({ code: e.code, stderr: e.stderr }));
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /--detect-timeout/);
  });
});

describe('skein-dp wait', () => {
  it('exits 1 with a message when nothing answers before the timeout', async () => {
    const unused = net.createServer();
    const port = await listenOn(unused);
    await closeServer(unused);
    const result = await runFile(process.execPath, [MAIN, 'wait', '--timeout', '600ms', '--admin-port', String(port)]).then(
      () => ({ code: 0, stderr: '' }), (err: { code: number; stderr: string }) => ({ code: err.code, stderr: err.stderr }));
    assert.equal(result.code, 1);
    assert.match(result.stderr, /not ready/);
  });

  it('exits 2 naming the flag on a bad flag', async () => {
    const result = await runFile(process.execPath, [MAIN, 'wait', '--timeout', 'soon']).then(
      () => ({ code: 0, stderr: '' }), (err: { code: number; stderr: string }) => ({ code: err.code, stderr: err.stderr }));
    assert.equal(result.code, 2);
    assert.match(result.stderr, /--timeout/);
  });
});

describe('skein-dp run as a process: readiness, wait, SIGTERM drain (L1)', () => {
  let upstream: http.Server;
  let child: ChildProcess;
  let ports: Record<string, number> = {};
  let lines: Array<Record<string, unknown>> = [];
  let exited: Promise<number | null>;
  // The slow response is held until the test has checked the draining proxy (no race with a timer).
  let releaseSlow: (() => void) | undefined;

  before(async () => {
    upstream = http.createServer((req, res) => {
      if (req.url === '/slow') { releaseSlow = () => res.end('slow done'); return; }
      res.end('fast');
    });
    const upstreamPort = await listenOn(upstream);
    ({ child, lines, ports, exited } = await spawnProxy(upstreamPort, ['--drain-timeout', '20s', '--drain-min', '1s']));
    await waitFor(() => Object.keys(ports).length === 4, 'the four listeners', 15_000);
  });
  after(async () => {
    releaseSlow?.();
    if (child.exitCode === null) child.kill('SIGKILL');
    await exited;
    await closeServer(upstream);
  });

  it('skein-dp wait returns 0 once /ready answers 200', async () => {
    const { stdout } = await runFile(process.execPath, [MAIN, 'wait', '--timeout', '10s', '--admin-port', String(ports['admin'])]);
    assert.equal(stdout, '');
    assert.equal((await get(ports['health'] as number, '/ready')).status, 200);
  });

  it('on SIGTERM: in-flight request finishes, inbound refused, outbound still served, then exit 0', async () => {
    const inflight = get(ports['inbound'] as number, '/slow');
    await waitFor(() => releaseSlow !== undefined, 'the slow request to reach the upstream');
    child.kill('SIGTERM');
    await waitFor(() => lines.some((l) => l['msg'] === 'shutting down'), 'shutdown to start');
    assert.equal((await get(ports['admin'] as number, '/ready')).status, 503, 'not ready while draining');
    assert.equal(await tryConnect(ports['inbound'] as number), 'ECONNREFUSED');
    const outbound = await get(ports['outbound'] as number, '/fast');
    assert.equal(outbound.body, 'fast', 'the app can still call out while it shuts down');
    assert.equal(outbound.headers['connection'], 'close');
    assert.equal(child.exitCode, null, 'still running while a request is in flight');
    releaseSlow?.();
    const done = await inflight;
    assert.equal(done.status, 200);
    assert.equal(done.body, 'slow done');
    assert.equal(await exited, 0);
    assert.ok(lines.some((l) => l['msg'] === 'drained'), 'exited because idle, not because of the drain timeout');
  });
});

describe('skein-dp run as a process: SIGTERM with a connection that never ends', () => {
  let upstream: net.Server;
  let child: ChildProcess;
  let client: net.Socket | undefined;
  let lines: Array<Record<string, unknown>> = [];
  let ports: Record<string, number> = {};
  let exited: Promise<number | null>;

  before(async () => {
    upstream = net.createServer((socket) => socket.on('error', () => undefined)); // accepts, never answers, never closes
    const upstreamPort = await listenOn(upstream);
    ({ child, lines, ports, exited } = await spawnProxy(upstreamPort, ['--drain-timeout', '1s', '--opaque-ports', String(upstreamPort)]));
    await waitFor(() => lines.some((l) => l['msg'] === 'ready'), 'the proxy to be ready', 15_000);
  });
  after(async () => {
    client?.destroy();
    if (child.exitCode === null) child.kill('SIGKILL');
    await exited;
    await closeServer(upstream);
  });

  it('closes what is left and exits 0 once --drain-timeout has passed', { timeout: 30_000 }, async () => {
    client = net.connect(ports['outbound'] as number, '127.0.0.1');
    client.on('error', () => undefined);
    const closed = new Promise<void>((resolve) => client?.once('close', () => resolve()));
    await new Promise((resolve) => client?.once('connect', resolve));
    const adminPort = ports['admin'] as number;
    let active = 0;
    const poll = setInterval(() => {
      void get(adminPort, '/stats').then((r) => {
        active = (JSON.parse(r.body) as Record<string, number>)['skein_dp_connections_active{direction="outbound"}'] ?? 0;
      }, () => undefined);
    }, 50);
    try {
      await waitFor(() => active === 1, 'the proxy to hold the connection');
    } finally {
      clearInterval(poll);
    }
    child.kill('SIGTERM');
    assert.equal(await exited, 0);
    const last = lines.find((l) => l['msg'] === 'drain timeout: closing remaining connections');
    assert.ok(last, 'exited because of the drain timeout');
    assert.equal(last['left'], 1);
    await closed;
  });
});

describe('skein-dp run as a process: SIGTERM while idle', () => {
  let upstream: http.Server;
  let proxy: SpawnedProxy;

  before(async () => {
    upstream = http.createServer((_req, res) => res.end('fast'));
    proxy = await spawnProxy(await listenOn(upstream), []);
    await waitFor(() => Object.keys(proxy.ports).length === 4, 'the four listeners', 15_000);
  });
  after(async () => {
    if (proxy.child.exitCode === null) proxy.child.kill('SIGKILL');
    await proxy.exited;
    await closeServer(upstream);
  });

  // Regression: an idle proxy exited at once on SIGTERM, so an app that got the same SIGTERM and then called
  // out while shutting down found the outbound listener gone. --drain-min (default 5s) keeps it up.
  it('keeps serving outbound after SIGTERM although nothing was in flight, then exits 0', { timeout: 30_000 }, async () => {
    proxy.child.kill('SIGTERM');
    await waitFor(() => proxy.lines.some((l) => l['msg'] === 'shutting down'), 'shutdown to start');
    const res = await get(proxy.ports['outbound'] as number, '/after-sigterm');
    assert.equal(res.body, 'fast');
    assert.equal(await proxy.exited, 0);
    assert.ok(proxy.lines.some((l) => l['msg'] === 'drained'));
  });
});
