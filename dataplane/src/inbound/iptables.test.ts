// End to end with real capture: `skein-dp init` writes iptables REDIRECT rules in a "pod" network
// namespace, `skein-dp run` runs there as UID 5678 and reads SO_ORIGINAL_DST through the native addon,
// and a "peer" namespace on a veth pair plays another pod. Nothing here touches the host's namespace.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { testImage } from '../image/testing/installed.js';

const run = promisify(execFile);
const MAIN = fileURLToPath(new URL('../main.js', import.meta.url));
const id = process.pid % 10000;
const POD_NS = `sk-ut-dp-${process.pid}-pod`;
const PEER_NS = `sk-ut-dp-${process.pid}-peer`;
const POD = '10.214.0.1';
const PEER = '10.214.0.2';
const POD6 = 'fd00:214::1';
const PEER6 = 'fd00:214::2';

const SERVER = `
const http = require('node:http');
const [host, port, name] = process.argv.slice(1);
http.createServer((req, res) => res.end(name + ' rid=' + (req.headers['x-request-id'] ? 'yes' : 'no')))
  .listen(Number(port), host, () => console.log('up'));
`;

function inNs(ns: string, args: string[], env: NodeJS.ProcessEnv = {}): ChildProcess {
  return spawn('ip', ['netns', 'exec', ns, ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
}

function started(child: ChildProcess, marker: RegExp): Promise<void> {
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout?.on('data', (c: Buffer) => { out += c.toString(); if (marker.test(out)) resolve(); });
    child.once('exit', (code) => reject(new Error(`exited ${code} before ${marker}: ${out}`)));
    setTimeout(() => reject(new Error(`no ${marker} within 15 s: ${out}`)), 15_000).unref();
  });
}

async function curl(ns: string, url: string): Promise<{ code: string; body: string; headers: string }> {
  const { stdout } = await run('ip', ['netns', 'exec', ns, 'curl', '-g', '-s', '-D', '-', '--max-time', '5', url]).catch((e: { stdout: string }) => ({ stdout: e.stdout }));
  const [headers = '', body = ''] = stdout.split('\r\n\r\n');
  return { code: /^HTTP\/1\.1 (\d+)/.exec(headers)?.[1] ?? 'none', body, headers };
}

describe('real iptables REDIRECT + SO_ORIGINAL_DST (skein-dp init + skein-dp run as UID 5678)', () => {
  const children: ChildProcess[] = [];

  before(async () => {
    for (const ns of [POD_NS, PEER_NS]) {
      await run('ip', ['netns', 'add', ns]);
      await run('ip', ['-n', ns, 'link', 'set', 'lo', 'up']);
    }
    await run('ip', ['-n', POD_NS, 'link', 'add', `skdp${id}p`, 'type', 'veth', 'peer', 'name', `skdp${id}q`, 'netns', PEER_NS]);
    await run('ip', ['-n', POD_NS, 'addr', 'add', `${POD}/24`, 'dev', `skdp${id}p`]);
    await run('ip', ['-n', POD_NS, 'link', 'set', `skdp${id}p`, 'up']);
    await run('ip', ['-n', PEER_NS, 'addr', 'add', `${PEER}/24`, 'dev', `skdp${id}q`]);
    await run('ip', ['-n', PEER_NS, 'link', 'set', `skdp${id}q`, 'up']);
    // A global IPv6 address makes `--ipv6 auto` capture IPv6 too (ip6tables-restore).
    await run('ip', ['-n', POD_NS, '-6', 'addr', 'add', `${POD6}/64`, 'dev', `skdp${id}p`, 'nodad']);
    await run('ip', ['-n', PEER_NS, '-6', 'addr', 'add', `${PEER6}/64`, 'dev', `skdp${id}q`, 'nodad']);
    await run('ip', ['netns', 'exec', POD_NS, process.execPath, MAIN, 'init', '--proxy-uid', '5678', '--proxy-gid', '5678',
      '--outbound-port', '15001', '--inbound-port', '15006', '--exclude-inbound-ports', '15000,15020']);
    const servers: Array<[string, string, string, string]> = [
      [POD_NS, POD, '8080', 'app'], [POD_NS, '127.0.0.1', '8081', 'loopback-app'], [PEER_NS, PEER, '9090', 'peer'],
      [POD_NS, POD6, '8080', 'app6'], [PEER_NS, PEER6, '9090', 'peer6'],
    ];
    for (const [ns, host, port, name] of servers) {
      const child = inNs(ns, [process.execPath, '-e', SERVER, host, port, name]);
      children.push(child);
      await started(child, /up/);
    }
    // As in a pod: the proxy runs from the installed image, which UID 5678 can read wherever the checkout is.
    const image = await testImage();
    const proxy = inNs(POD_NS, ['setpriv', '--reuid=5678', '--regid=5678', '--clear-groups', process.execPath, image.main, 'run', '--log-level', 'debug'],
      { POD_IP: POD, SKEIN_ORIGINAL_PROBES: JSON.stringify({ app: { liveness: { httpGet: { path: '/', port: 8080 } }, readiness: { tcpSocket: { port: 8080 } } } }) });
    children.push(proxy);
    await started(proxy, /"msg":"ready"/);
    await run('ip', ['netns', 'exec', POD_NS, process.execPath, MAIN, 'wait', '--timeout', '10s']);
  });

  after(async () => {
    for (const child of children) child.kill('SIGKILL');
    await Promise.all(children.map((c) => (c.exitCode !== null || c.signalCode !== null ? undefined : new Promise((r) => c.once('exit', r)))));
    for (const ns of [POD_NS, PEER_NS]) await run('ip', ['netns', 'del', ns]).catch(() => undefined);
  });

  async function stats(): Promise<Record<string, number>> {
    const { stdout } = await run('ip', ['netns', 'exec', POD_NS, 'curl', '-s', 'http://127.0.0.1:15000/stats']);
    return JSON.parse(stdout) as Record<string, number>;
  }

  it('inbound: a peer reaches the app on the pod IP through 15006', async () => {
    const res = await curl(PEER_NS, `http://${POD}:8080/`);
    assert.equal(res.code, '200');
    assert.equal(res.body, 'app rid=yes', 'the request went through the proxy (x-request-id added)');
    assert.ok((await stats())['skein_dp_connections_total{direction="inbound",protocol="http1"}']! >= 1);
  });

  it('inbound: an app bound only to 127.0.0.1 is not reachable from a peer (I4)', async () => {
    const res = await curl(PEER_NS, `http://${POD}:8081/`);
    assert.equal(res.code, '502');
    assert.match(res.headers, /x-skein-error: upstream_refused/i);
  });

  it('outbound: the app (another UID) is captured on 15001 and reaches the original destination', async () => {
    const res = await curl(POD_NS, `http://${PEER}:9090/`);
    assert.equal(res.code, '200');
    assert.equal(res.body, 'peer rid=yes');
    assert.ok((await stats())['skein_dp_connections_total{direction="outbound",protocol="http1"}']! >= 1);
  });

  // Regression: the capture listeners were bound to 0.0.0.0 only, so IPv6 connections redirected by
  // ip6tables found no listener and the IP6T_SO_ORIGINAL_DST path never ran with real capture.
  it('IPv6 inbound: a peer reaches the app on the pod\'s IPv6 address through 15006 (IP6T_SO_ORIGINAL_DST)', async () => {
    const res = await curl(PEER_NS, `http://[${POD6}]:8080/`);
    assert.equal(res.code, '200');
    assert.equal(res.body, 'app6 rid=yes', 'the request went through the proxy to the IPv6 original destination');
  });

  it('IPv6 outbound: the app is captured on 15001 and reaches the IPv6 original destination', async () => {
    const before = (await stats())['skein_dp_connections_total{direction="outbound",protocol="http1"}'] ?? 0;
    const res = await curl(POD_NS, `http://[${PEER6}]:9090/`);
    assert.equal(res.code, '200');
    assert.equal(res.body, 'peer6 rid=yes');
    assert.equal((await stats())['skein_dp_connections_total{direction="outbound",protocol="http1"}'], before + 1);
  });

  it('/app-health probes reach the app directly from 127.0.0.6, not through the inbound listener', async () => {
    const before = (await stats())['skein_dp_connections_total{direction="inbound",protocol="http1"}'] ?? 0;
    for (const kind of ['liveness', 'readiness']) {
      const res = await curl(PEER_NS, `http://${POD}:15020/app-health/app/${kind}`);
      assert.equal(res.code, '200', kind);
    }
    const after = (await stats())['skein_dp_connections_total{direction="inbound",protocol="http1"}'] ?? 0;
    assert.equal(after, before, 'the probes were not captured into 15006');
  });
});
