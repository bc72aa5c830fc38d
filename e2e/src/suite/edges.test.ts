// End to end at the edges of capture: server-speaks-first protocols on opaque and non-opaque ports,
// destinations outside the mesh (passthrough), and loopback traffic inside a pod (never captured).
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { inbound, INBOUND_HTTP_REQUESTS, outbound, OUTBOUND_DETECT_TIMEOUTS, OUTBOUND_OPAQUE_PORT } from './harness/counters.js';
import type { LocalMesh } from './harness/local-mesh.js';
import { namespace, pod, service } from './harness/manifests.js';
import { delta, namesOf, showDelta, sumOf } from './harness/stats.js';
import { PYTHON3 } from './harness/paths.js';
import { meshSuite } from './harness/suite.js';

const NS = 'e2e-edges';
const PLAIN = 'e2e-plain';
/** Declared opaque through the annotation on both ends (the client's sidecar decides on outbound). */
const DECLARED_OPAQUE = 8025;
/** Not opaque anywhere: the outbound sidecar dials at once, and the server's first bytes decide (opaque). */
const UNDECLARED = 8026;
/** In the dataplane's default opaque list (MySQL), like Linkerd's. */
const DEFAULT_OPAQUE = 3306;
const BANNER_PORTS = [DEFAULT_OPAQUE, DECLARED_OPAQUE, UNDECLARED];

const banner = (port: number): string => `220 banner-${port} ready`;

async function setup(mesh: LocalMesh): Promise<void> {
  writeFileSync(join(mesh.filesDir, 'hello.txt'), 'hello from outside the mesh\n');
  writeFileSync(join(mesh.filesDir, 'local.txt'), 'loopback only\n');
  const opaque = { 'skein.io/opaque-ports': String(DECLARED_OPAQUE) };
  await mesh.apply([
    namespace(NS, true),
    namespace(PLAIN, false),
    pod({
      name: 'client', namespace: NS, annotations: opaque,
      containers: [
        { name: 'toolbox', command: ['sleep', 'infinity'] },
        // Bound to 127.0.0.1 only: reachable from inside this pod, never from a peer.
        { name: 'loopback-web', command: [PYTHON3, '-m', 'http.server', '8099', '--bind', '127.0.0.1', '--directory', mesh.filesDir] },
        // The same files on all addresses: the control for the loopback check, and a meshed server for unmeshed clients.
        { name: 'web', command: [PYTHON3, '-m', 'http.server', '8098', '--bind', '0.0.0.0', '--directory', mesh.filesDir], ports: [8098] },
      ],
    }),
    pod({
      name: 'banner', namespace: NS, annotations: opaque,
      containers: BANNER_PORTS.map((port) => ({
        name: `banner-${port}`,
        // Speaks first: writes its greeting as soon as the connection is accepted, then closes.
        command: ['socat', `TCP-LISTEN:${port},fork,reuseaddr`, `SYSTEM:echo '${banner(port)}'`],
        ports: [port],
      })),
    }),
    service('banner', NS, { app: 'banner' }, BANNER_PORTS.map((port) => ({ name: `p${port}`, port, targetPort: port }))),
    pod({
      name: 'outside', namespace: PLAIN,
      containers: [{ name: 'web', command: [PYTHON3, '-m', 'http.server', '8080', '--bind', '0.0.0.0', '--directory', mesh.filesDir], ports: [8080] }],
    }),
    service('outside', PLAIN, { app: 'outside' }, [{ name: 'http', port: 80, targetPort: 8080 }]),
  ]);
  await mesh.waitReady(NS, 'client');
  await mesh.waitReady(NS, 'banner');
  await mesh.waitReady(PLAIN, 'outside');
}

describe('edges of capture', () => {
  const { mesh, diagnosed } = meshSuite('edges', [NS, PLAIN], setup);

  /** Connects, sends nothing, prints what the server says until it closes. */
  const readBanner = (port: number): Promise<string> =>
    mesh.execOk(NS, 'client', ['socat', '-u', '-T', '30', `TCP:banner.${NS}:${port}`, 'STDOUT'], { timeoutMs: 45_000 });

  for (const port of [DEFAULT_OPAQUE, DECLARED_OPAQUE]) {
    it(`server-first banner on opaque port ${port} arrives without waiting for protocol detection`, diagnosed(async () => {
      const before = await mesh.stats(NS, 'client');
      assert.equal(await readBanner(port), `${banner(port)}\n`);
      const after = await mesh.stats(NS, 'client');
      const why = showDelta(delta(before, after));
      assert.equal(outbound(after) - outbound(before), 1, `one outbound connection expected\n${why}`);
      // The opaque path never starts a detection, so it cannot time out waiting for client bytes.
      assert.equal(sumOf(after, OUTBOUND_OPAQUE_PORT) - sumOf(before, OUTBOUND_OPAQUE_PORT), 1, `one opaque-port connection expected\n${why}`);
      assert.equal(sumOf(after, OUTBOUND_DETECT_TIMEOUTS) - sumOf(before, OUTBOUND_DETECT_TIMEOUTS), 0, `no detection timeout expected\n${why}`);
    }));
  }

  it(`server-first banner on non-opaque port ${UNDECLARED} arrives without waiting for detection either`, diagnosed(async () => {
    const before = await mesh.stats(NS, 'client');
    assert.equal(await readBanner(UNDECLARED), `${banner(UNDECLARED)}\n`);
    const after = await mesh.stats(NS, 'client');
    const why = `${showDelta(delta(before, after))}\nknown detection timeout counters: ${namesOf(after, OUTBOUND_DETECT_TIMEOUTS).join(', ') || 'none'}`;
    // The upstream was dialled in parallel with detection and spoke first: no detection timeout, and
    // not counted as an opaque port either (nothing declared it).
    assert.equal(sumOf(after, OUTBOUND_DETECT_TIMEOUTS) - sumOf(before, OUTBOUND_DETECT_TIMEOUTS), 0, `no detection timeout expected\n${why}`);
    assert.equal(sumOf(after, OUTBOUND_OPAQUE_PORT) - sumOf(before, OUTBOUND_OPAQUE_PORT), 0, `not an opaque port\n${why}`);
  }));

  it('a pod outside the mesh is reached as passthrough, by pod IP and by Service name', diagnosed(async () => {
    const before = await mesh.stats(NS, 'client');
    const ip = await mesh.podIP(PLAIN, 'outside');
    for (const url of [`http://${ip}:8080/hello.txt`, `http://outside.${PLAIN}/hello.txt`]) {
      const body = await mesh.execOk(NS, 'client', ['curl', '-sS', '--fail', '--max-time', '20', url]);
      assert.equal(body, 'hello from outside the mesh\n', url);
    }
    const after = await mesh.stats(NS, 'client');
    const why = showDelta(delta(before, after));
    assert.equal(outbound(after) - outbound(before), 2, `both connections go through the client sidecar\n${why}`);
    // The unmeshed server has no sidecar: what it logged is a plain HTTP request from the client pod.
    const serverLog = await mesh.logs(PLAIN, 'outside', 'web');
    assert.match(serverLog, /GET \/hello\.txt/);
  }));

  it('traffic to 127.0.0.1 inside a pod is not captured', diagnosed(async () => {
    const before = await mesh.stats(NS, 'client');
    const body = await mesh.execOk(NS, 'client', ['curl', '-sS', '--fail', '--max-time', '20', 'http://127.0.0.1:8099/local.txt']);
    assert.equal(body, 'loopback only\n');
    const after = await mesh.stats(NS, 'client');
    const why = showDelta(delta(before, after));
    assert.equal(outbound(after) - outbound(before), 0, `loopback must bypass the outbound listener\n${why}`);
    assert.equal(inbound(after) - inbound(before), 0, `loopback must bypass the inbound listener\n${why}`);
  }));

  it('an app bound to 127.0.0.1 is not exposed to other pods through the sidecar', diagnosed(async () => {
    const ip = await mesh.podIP(NS, 'client');
    // Control: the same peer does reach the pod's listener on 0.0.0.0, through both sidecars.
    const open = await mesh.execOk(NS, 'banner', ['curl', '-sS', '--fail', '--max-time', '15', `http://${ip}:8098/local.txt`]);
    assert.equal(open, 'loopback only\n');
    // --fail: a sidecar may answer for the refused app (502); either way the listener's content must not come back.
    const r = await mesh.exec(NS, 'banner', ['curl', '-sS', '--fail', '--max-time', '15', `http://${ip}:8099/local.txt`]);
    assert.notEqual(r.code, 0, `curl to the loopback-only port should fail: ${r.stdout}${r.stderr}`);
    assert.ok(!r.stdout.includes('loopback only'), `a peer read a loopback-only listener: ${r.stdout}`);
  }));

  it('a pod outside the mesh reaches a meshed server in plaintext (default Mesh is PERMISSIVE)', diagnosed(async () => {
    const ip = await mesh.podIP(NS, 'client');
    const before = await mesh.stats(NS, 'client');
    const body = await mesh.execOk(PLAIN, 'outside', ['curl', '-sS', '--fail', '--max-time', '15', `http://${ip}:8098/local.txt`]);
    assert.equal(body, 'loopback only\n');
    const after = await mesh.stats(NS, 'client');
    // The meshed server's sidecar took the request in on its inbound listener.
    assert.equal(sumOf(after, INBOUND_HTTP_REQUESTS) - sumOf(before, INBOUND_HTTP_REQUESTS), 1, showDelta(delta(before, after)));
  }));
});
