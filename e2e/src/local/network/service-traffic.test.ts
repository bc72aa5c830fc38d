// Service traffic as kube-proxy shapes it, on a real skein-local node: an endpoint-less Service refuses
// TCP at once, a server behind a Service sees the client pod's own address (no masquerade, except a pod
// reaching itself), for plain and meshed clients; and the host's forwarding sysctls are what they were.
// The whole file runs with net.ipv4.ip_forward=0: Services must work without it, and `down` leaves it so.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { LocalMesh } from '../../suite/harness/local-mesh.js';
import { namespace, pod, service } from '../../suite/harness/manifests.js';
import { PYTHON3 } from '../../suite/harness/paths.js';
import { pollUntil } from '../../suite/harness/poll.js';
import { teardownOnSignals } from '../../suite/harness/suite.js';

const PLAIN = 'sknet-plain';
const MESHED = 'sknet-mesh';
const ATTEMPTS = 12; // more than the kernel's ICMP burst (6) towards one host: a rate-limited refusal would show
const REFUSED_WITHIN_S = 0.1;
const HOST_SYSCTLS = ['net/ipv4/ip_forward', 'net/ipv6/conf/all/forwarding', 'net/ipv6/conf/default/forwarding', 'net/ipv4/conf/default/forwarding'];

const readSysctl = (k: string): string => readFileSync(`/proc/sys/${k}`, 'utf8').trim();
const snapshot = (): Record<string, string> => Object.fromEntries(HOST_SYSCTLS.map((k) => [k, readSysctl(k)]));

describe('Service traffic (refusal, client source address) and host sysctls', () => {
  const mesh = new LocalMesh('net-svc');
  const originalForward = readSysctl('net/ipv4/ip_forward');
  let before_: Record<string, string> = {};
  let duringUp: Record<string, string> = {};
  let release = (): void => undefined;
  const ips: Record<string, string> = {};

  before(async () => {
    release = teardownOnSignals(mesh, 'net-svc');
    writeFileSync('/proc/sys/net/ipv4/ip_forward', '0');
    before_ = snapshot();
    await mesh.up();
    duringUp = snapshot();
    await mesh.apply([
      namespace(PLAIN, false),
      namespace(MESHED, true),
      pod({ name: 'echo', namespace: PLAIN, containers: [{ name: 'web', command: [PYTHON3, '-m', 'http.server', '8080', '--bind', '0.0.0.0'], ports: [8080] }] }),
      service('echo', PLAIN, { app: 'echo' }, [{ name: 'http', port: 80, targetPort: 8080 }]),
      service('nothing', PLAIN, { app: 'nobody' }, [{ name: 'http', port: 80, targetPort: 8080 }]),
      pod({ name: 'client', namespace: PLAIN, containers: [{ name: 'c', command: ['sleep', 'infinity'] }] }),
      pod({ name: 'client', namespace: MESHED, containers: [{ name: 'c', command: ['sleep', 'infinity'] }] }),
    ]);
    for (const [ns, p] of [[PLAIN, 'echo'], [PLAIN, 'client'], [MESHED, 'client']] as const) {
      await mesh.waitReady(ns, p);
      ips[`${ns}/${p}`] = await mesh.podIP(ns, p);
    }
  }, { timeout: 240_000 });

  after(async () => {
    release();
    const problem = await mesh.destroy();
    writeFileSync('/proc/sys/net/ipv4/ip_forward', originalForward);
    if (problem) console.error(`net-svc: cleanup problem: ${problem}`);
  }, { timeout: 150_000 });

  /** Runs ATTEMPTS curls in the pod; returns one `<exit> <http code> <x-skein-error> <seconds>` line each. */
  async function curlLoop(ns: string, url: string): Promise<{ exit: number; status: string; skeinError: string; seconds: number }[]> {
    const script = `for i in $(seq ${ATTEMPTS}); do
      out=$(curl -s -o /dev/null --max-time 5 -w '%{http_code} %header{x-skein-error}. %{time_total}' '${url}'); echo "$? $out"; done`;
    const text = await mesh.shOk(ns, 'client', script, { timeoutMs: 120_000 });
    return text.trim().split('\n').map((l) => {
      const [exit, status, skeinError, seconds] = l.trim().split(/\s+/);
      return { exit: Number(exit), status: status!, skeinError: skeinError!.replace(/\.$/, ''), seconds: Number(seconds) };
    });
  }

  it(`an endpoint-less Service refuses a plain client's TCP connection at once (${ATTEMPTS} tries, each < ${REFUSED_WITHIN_S * 1000} ms)`, async () => {
    const tries = await curlLoop(PLAIN, `http://nothing.${PLAIN}/`);
    const why = JSON.stringify(tries);
    // curl exit 7 = could not connect (ECONNREFUSED); 28 would be a timeout.
    assert.ok(tries.every((t) => t.exit === 7), `every try should be refused (curl exit 7): ${why}`);
    assert.ok(tries.every((t) => t.seconds < REFUSED_WITHIN_S), `every refusal should take < ${REFUSED_WITHIN_S}s: ${why}`);
  });

  it('... and a meshed client is told at once too (its sidecar gets the reset and answers 502 upstream_refused)', async () => {
    const tries = await curlLoop(MESHED, `http://nothing.${PLAIN}/`);
    const why = JSON.stringify(tries);
    assert.ok(tries.every((t) => t.exit === 0 && t.status === '502' && t.skeinError === 'upstream_refused'), `every try should get 502 upstream_refused: ${why}`);
    assert.ok(tries.every((t) => t.seconds < REFUSED_WITHIN_S), `every refusal should take < ${REFUSED_WITHIN_S}s: ${why}`);
  });

  /** The echo server's access log line for `path` (python's http.server logs the peer address first). */
  async function seenFrom(path: string): Promise<string> {
    const line = await pollUntil(async () => (await mesh.logs(PLAIN, 'echo', 'web')).split('\n').find((l) => l.includes(`"GET ${path} `)),
      { what: `the echo server to log GET ${path}`, timeoutMs: 10_000 });
    return line.split(' ')[0]!;
  }

  it("a server behind a Service sees the plain client pod's own address", async () => {
    const path = `/from-plain-${process.pid}`;
    assert.equal(await mesh.execOk(PLAIN, 'client', ['curl', '-s', '-o', '/dev/null', '-w', '%{http_code}', '--max-time', '10', `http://echo.${PLAIN}${path}`]), '404');
    assert.equal(await seenFrom(path), ips[`${PLAIN}/client`]);
  });

  it("... and the meshed client pod's own address (its sidecar dials from the pod IP)", async () => {
    const path = `/from-mesh-${process.pid}`;
    assert.equal(await mesh.execOk(MESHED, 'client', ['curl', '-s', '-o', '/dev/null', '-w', '%{http_code}', '--max-time', '10', `http://echo.${PLAIN}${path}`]), '404');
    assert.equal(await seenFrom(path), ips[`${MESHED}/client`]);
  });

  it('a pod still reaches its own Service (hairpin: the one case that is masqueraded)', async () => {
    const path = `/from-self-${process.pid}`;
    assert.equal(await mesh.execOk(PLAIN, 'echo', ['curl', '-s', '-o', '/dev/null', '-w', '%{http_code}', '--max-time', '10', `http://echo.${PLAIN}${path}`]), '404');
    const bridgeAddress = mesh.podCidr.replace(/\.0\/\d+$/, '.1');
    assert.equal(await seenFrom(path), bridgeAddress, 'a hairpin connection arrives from the bridge address');
  });

  it('`up` changes no host-wide forwarding sysctl, and `down` leaves them as they were (ip_forward still 0)', async () => {
    assert.deepEqual(duringUp, before_, 'while up');
    const problem = await mesh.destroy();
    assert.equal(problem, '');
    assert.deepEqual(snapshot(), before_, 'after down');
    assert.equal(readSysctl('net/ipv4/ip_forward'), '0');
    // The instance was dual stack: nothing of either family is left.
    const routes = execFileSync('ip', ['-6', 'route', 'show', 'table', 'all'], { encoding: 'utf8' });
    for (const r of [mesh.podCidr6, mesh.serviceCidr6]) assert.ok(!routes.includes(r.replace('/64', '').replace('/108', '')), `${r} routes left:\n${routes}`);
    for (const tool of ['iptables-save', 'ip6tables-save']) {
      assert.doesNotMatch(execFileSync(tool, { encoding: 'utf8' }), new RegExp(`SKL-${mesh.bridge}-`), `${tool}: chains left`);
    }
  });
});
