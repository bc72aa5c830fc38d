// Microbenchmark of the HTTP/1.1 path (CONVENTIONS §17: a focused bench beside the code it guards; not
// product code, not in the image). Two sidecars in one child process — outbound hop → inbound hop (which
// dials from 127.0.0.6) → a 1 KiB app server in another child — both pinned to CPU 0, autocannon in this
// process on CPU 1, as `npm run bench` pins them. Prints, per round, direct and proxied req/s and the
// sidecars' CPU per proxied request (both hops), then the best round. Runs without root or netns.
//   node dataplane/dist/http/testing/bench-hops.js [--rounds 3] [--duration 5] [--connections 64]
//        [--rate 1000] [--prof DIR] [--mtls] [-- skein-dp run flags, e.g. --access-log off]
// --mtls: the two sidecars speak mTLS (pooled skein/h1 connections) with certificates of a test CA,
// built as lifecycle/run.ts builds a meshed sidecar (mtls/testing/mesh.ts) instead of standalone.
// --mesh-plaintext: the same meshed sidecars, but discovery gives the endpoint no identity (plaintext):
// the baseline that isolates what TLS itself costs.
// BENCH_HOPS_BALANCED=1 (with --mtls): the client sidecar's VIP is a Service of the real route index
// (discovery/mesh-view.ts), each request picking its endpoint (balance/), to compare with a fixed route.
// BENCH_HOPS_POLICIES=N (with --mtls): the server sidecar enforces N TrafficPermissions (policy/testing/
// bench.ts's typical set plus the Allow the bench's requests match), to compare with none.
import { fork, type ChildProcess } from 'node:child_process';
import { openSync } from 'node:fs';
import http from 'node:http';
import { createRequire } from 'node:module';
import { once } from 'node:events';
import type net from 'node:net';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { parseRunConfig } from '../../config/index.js';
import { createLogControl } from '../../log/index.js';
import { startProxy } from '../../lifecycle/run.js';
import { fixedResolver } from '../../transport/resolver.js';

interface Result { requests: { average: number; total: number }; latency: { p50: number; p99: number }; errors: number; non2xx: number }
type Autocannon = (opts: Record<string, unknown>, cb: (err: Error | null, result: Result) => void) => void;

const self = fileURLToPath(import.meta.url);
const role = process.argv[2];

/** A child on CPU 0 running this file in `childRole`; stdout goes to `logFile` (the sidecars' log lines). */
function child(childRole: string, args: string[], logFile: string, execArgv: string[] = []): ChildProcess {
  return fork(self, [childRole, ...args], {
    execPath: 'taskset', execArgv: ['-c', '0', process.execPath, ...execArgv],
    stdio: ['ignore', openSync(logFile, 'w'), 'inherit', 'ipc'],
  });
}

async function app(): Promise<void> {
  const body = Buffer.alloc(1024, 'x');
  const server = http.createServer((req, res) => {
    req.resume();
    res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': body.length });
    res.end(body);
  });
  server.keepAliveTimeout = 120_000;
  server.on('connection', (s: net.Socket) => s.setNoDelay(true));
  server.listen(0, '127.0.0.1', () => process.send?.({ port: (server.address() as net.AddressInfo).port }));
}

/** The same two hops with mTLS between them; returns the client sidecar's outbound port and a stop function. */
async function meshedProxies(appPort: number, flags: string[], tls: boolean): Promise<{ port: number; stop(): Promise<void> }> {
  const { createTestCa } = await import('../../mtls/testing/pki.js');
  const { spiffe, startMeshProxy, TestDiscovery, TestIdentity, workloadCert } = await import('../../mtls/testing/mesh.js');
  const ca = await createTestCa();
  const anchors = { trustAnchorsPem: [ca.certPem] };
  const serverId = spiffe('bench', 'server');
  const policies = Number(process.env['BENCH_HOPS_POLICIES'] ?? 0);
  const { PolicyDiscovery, permission } = await import('../../policy/testing/discovery.js');
  const { typicalPolicies } = await import('../../policy/testing/bench.js');
  const serverDiscovery = policies > 0
    ? new PolicyDiscovery({ ...anchors, policies: [...typicalPolicies(policies - 1), permission('bench', 'client', 'Allow', [{ serviceAccounts: ['bench/client'] }], [{ methods: ['GET'], paths: ['/'] }])] })
    : new TestDiscovery(anchors);
  const server = await startMeshProxy({
    identity: new TestIdentity(await workloadCert(ca, serverId)), discovery: serverDiscovery,
    inboundTo: { address: '127.0.0.1', port: appPort, family: 4 }, flags, stdout: true,
  });
  const vip = { address: '10.96.0.1', port: 80, family: 4 as const };
  const client = await startMeshProxy({
    identity: new TestIdentity(await workloadCert(ca, spiffe('bench', 'client'))),
    // BENCH_HOPS_BALANCED=1: the VIP is a Service of the real route index, balanced per request (balance/).
    discovery: process.env['BENCH_HOPS_BALANCED'] === '1'
      ? new (await import('../../balance/testing.js')).SnapshotDiscovery((await import('../../balance/testing.js')).serviceSnapshot(vip.address, [server.inbound], tls ? serverId : '', anchors.trustAnchorsPem))
      : new TestDiscovery({
        ...anchors, routes: { [`${vip.address}:${vip.port}`]: { kind: 'endpoint', host: '127.0.0.1', port: server.inbound, spiffeId: tls ? serverId : '', protocol: 'detect' } },
      }),
    outboundTo: vip, flags, stdout: true,
  });
  return { port: client.outbound, stop: async () => { await client.close(); await server.close(); } };
}

async function proxies(appPort: number, flags: string[]): Promise<void> {
  if (flags[0] === '--mtls' || flags[0] === '--mesh-plaintext') {
    const meshed = await meshedProxies(appPort, flags.slice(1), flags[0] === '--mtls');
    serve(meshed.port, meshed.stop);
    return;
  }
  const config = parseRunConfig(['--outbound-port', '0', '--inbound-port', '0', '--admin-port', '0', '--health-port', '0',
    '--bind-address', '127.0.0.1', ...flags], { POD_IP: '127.0.0.1' });
  const logs = createLogControl(config.logLevel);
  const server = await startProxy(config, { logs, resolver: fixedResolver({ address: '127.0.0.1', port: appPort, family: 4 }) });
  const client = await startProxy(config, {
    logs, resolver: fixedResolver({ address: '127.0.0.1', port: server.addresses.inbound.port, family: 4 }),
  });
  serve(client.addresses.outbound.port, async () => { await Promise.all([client.shutdown(0), server.shutdown(0)]); });
}

/** The proxies child's side of the IPC: CPU marks and readings, stop. */
function serve(port: number, stop: () => Promise<void>): void {
  let mark = process.cpuUsage();
  process.on('message', (m: string) => {
    if (m === 'mark') mark = process.cpuUsage();
    if (m === 'cpu') {
      const used = process.cpuUsage(mark);
      process.send?.({ cpuMs: (used.user + used.system) / 1000, rssMB: Math.round(process.memoryUsage().rss / 1e6) });
      return;
    }
    if (m === 'stop') void stop().then(() => process.disconnect());
    else process.send?.({ ok: true });
  });
  process.send?.({ port });
}

async function main(): Promise<void> {
  const { values, positionals } = parseArgs({
    args: process.argv.slice(2), allowPositionals: true, options: {
      rounds: { type: 'string', default: '3' }, duration: { type: 'string', default: '5' },
      connections: { type: 'string', default: '64' }, rate: { type: 'string' }, prof: { type: 'string' },
      mtls: { type: 'boolean', default: false }, 'mesh-plaintext': { type: 'boolean', default: false },
    },
  });
  const autocannon = createRequire(import.meta.url)('autocannon') as Autocannon;
  const appChild = child('app', [], '/dev/null');
  const [{ port: appPort }] = (await once(appChild, 'message')) as [{ port: number }];
  const mode = values.mtls ? ['--mtls'] : values['mesh-plaintext'] ? ['--mesh-plaintext'] : [];
  const px = child('proxies', [String(appPort), ...mode, ...positionals], process.env['BENCH_HOPS_LOG'] ?? '/dev/null',
    values.prof ? ['--cpu-prof', `--cpu-prof-dir=${values.prof}`] : []);
  const [{ port }] = (await once(px, 'message')) as [{ port: number }];
  const ask = async <T>(m: string): Promise<T> => { px.send(m); return ((await once(px, 'message')) as [T])[0]; };
  const load = (url: string, seconds: number): Promise<Result> => new Promise((resolve, reject) => {
    autocannon({ url, connections: Number(values.connections), duration: seconds, ...(values.rate ? { overallRate: Number(values.rate) } : {}) },
      (err, result) => (err ? reject(err) : resolve(result)));
  });
  await load(`http://127.0.0.1:${port}/`, 2); // warm-up: JIT, pools
  const rounds: Array<Record<string, number>> = [];
  for (let round = 1; round <= Number(values.rounds); round++) {
    const direct = await load(`http://127.0.0.1:${appPort}/`, Number(values.duration));
    await ask('mark');
    const proxied = await load(`http://127.0.0.1:${port}/`, Number(values.duration));
    const cpu = await ask<{ cpuMs: number; rssMB: number }>('cpu');
    const r = {
      round, directRps: Math.round(direct.requests.average), skeinRps: Math.round(proxied.requests.average),
      ratio: +(proxied.requests.average / direct.requests.average).toFixed(3),
      cpuUsPerRequest: +((cpu.cpuMs * 1000) / proxied.requests.total).toFixed(1),
      p50ms: proxied.latency.p50, p99ms: proxied.latency.p99, errors: proxied.errors + proxied.non2xx, rssMB: cpu.rssMB,
    };
    rounds.push(r);
    process.stdout.write(`${JSON.stringify(r)}\n`);
  }
  const best = (key: string, pick: (...n: number[]) => number): number => pick(...rounds.map((r) => r[key] as number));
  process.stdout.write(`${JSON.stringify({ best: true, mode: mode[0] ?? 'standalone', flags: positionals.join(' '), skeinRps: best('skeinRps', Math.max),
    cpuUsPerRequest: best('cpuUsPerRequest', Math.min), ratio: best('ratio', Math.max) })}\n`);
  px.send('stop');
  appChild.kill();
  await once(px, 'exit');
  if (appChild.connected) appChild.disconnect();
}

const run = role === 'app' ? app() : role === 'proxies' ? proxies(Number(process.argv[3]), process.argv.slice(4)) : main();
run.catch((err: unknown) => {
  process.stderr.write(`bench-hops: ${(err as Error).stack ?? String(err)}\n`);
  process.exitCode = 1;
});
