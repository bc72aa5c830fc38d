// End to end through the mesh: unmodified Debian clients and servers (curl, redis-cli/redis-server,
// socat, nc, python3 -m http.server) plus small node fixtures (h2c, WebSocket), in a namespace
// labelled for injection, on a real skein-local node (webhook, skein-dp init + run).
// Each check goes client app -> client sidecar (15001) -> server sidecar (15006) -> server app.
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { createWriteStream, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { inbound, INBOUND_BYTES_RX, INBOUND_HTTP_REQUESTS, outbound, OUTBOUND_BYTES_TX, OUTBOUND_HTTP_REQUESTS } from './harness/counters.js';
import { observeHops } from './harness/hops.js';
import { SIDECAR, type LocalMesh } from './harness/local-mesh.js';
import { namespace, pod, service } from './harness/manifests.js';
import { fixture, PYTHON3 } from './harness/paths.js';
import { pollUntil } from './harness/poll.js';
import { delta, showDelta, sumOf } from './harness/stats.js';
import { meshSuite } from './harness/suite.js';

const NS = 'e2e-traffic';
const BIG_BYTES = 100 * 1024 * 1024;
const host = (svc: string): string => `${svc}.${NS}`;

let bigSha = '';

/** Writes `bytes` random bytes to `file` and returns their sha256 (hex). */
async function randomFile(file: string, bytes: number): Promise<string> {
  const hash = createHash('sha256');
  const out = createWriteStream(file);
  for (let left = bytes; left > 0; left -= 1 << 20) {
    const chunk = randomBytes(Math.min(left, 1 << 20));
    hash.update(chunk);
    if (!out.write(chunk)) await new Promise<void>((r) => out.once('drain', () => r()));
  }
  await new Promise<void>((resolve, reject) => out.end((err?: Error | null) => (err ? reject(err) : resolve())));
  return hash.digest('hex');
}

async function setup(mesh: LocalMesh): Promise<void> {
  writeFileSync(join(mesh.filesDir, 'hello.txt'), 'hello through the mesh\n');
  bigSha = await randomFile(join(mesh.filesDir, 'big.bin'), BIG_BYTES);
  const files = mesh.filesDir;
  await mesh.apply([
    namespace(NS, true),
    pod({ name: 'client', namespace: NS, containers: [{ name: 'toolbox', command: ['sleep', 'infinity'] }] }),
    pod({
      name: 'web', namespace: NS,
      // No readiness probe on purpose: probe traffic would run through this sidecar while tests count its requests.
      containers: [{ name: 'web', command: [PYTHON3, '-m', 'http.server', '8080', '--bind', '0.0.0.0', '--directory', files], ports: [8080] }],
    }),
    service('web', NS, { app: 'web' }, [{ name: 'http', port: 80, targetPort: 8080 }]),
    pod({
      name: 'redis', namespace: NS,
      containers: [{ name: 'redis', command: ['redis-server', '--port', '6379', '--save', '', '--appendonly', 'no', '--protected-mode', 'no'], ports: [6379] }],
    }),
    service('redis', NS, { app: 'redis' }, [{ name: 'redis', port: 6379, targetPort: 6379 }]),
    pod({ name: 'h2c', namespace: NS, containers: [{ name: 'h2c', command: ['node', fixture('h2c-server.js'), '8081'], ports: [8081] }] }),
    service('h2c', NS, { app: 'h2c' }, [{ name: 'http2', port: 80, targetPort: 8081 }]),
    pod({ name: 'ws', namespace: NS, containers: [{ name: 'ws', command: ['node', fixture('ws-echo-server.js'), '8082'], ports: [8082] }] }),
    service('ws', NS, { app: 'ws' }, [{ name: 'http', port: 80, targetPort: 8082 }]),
    pod({
      name: 'tcp', namespace: NS,
      containers: [
        // Replies with the sha256 of everything it received, which it can only know after the client's FIN.
        { name: 'sha', command: ['socat', 'TCP-LISTEN:9000,fork,reuseaddr', 'SYSTEM:sha256sum'], ports: [9000] },
        // `sort` prints nothing until EOF: a reply proves the half-closed connection stayed readable.
        { name: 'sort', command: ['socat', 'TCP-LISTEN:9001,fork,reuseaddr', 'SYSTEM:sort'], ports: [9001] },
      ],
    }),
    service('tcp', NS, { app: 'tcp' }, [{ name: 'sha', port: 9000, targetPort: 9000 }, { name: 'sort', port: 9001, targetPort: 9001 }]),
  ]);
  for (const p of ['client', 'web', 'redis', 'h2c', 'ws', 'tcp']) await mesh.waitReady(NS, p);
  // `early` is applied once `web` answers, so the only thing its first dial can trip on is its own sidecar.
  await pollUntil(async () => (await mesh.exec(NS, 'client', ['curl', '-sf', '--max-time', '5', `http://${host('web')}/hello.txt`])).code === 0 || undefined,
    { what: 'web to answer through the mesh', timeoutMs: 30_000 });
  await mesh.apply([
    // Dials a Service the moment its container starts: the mesh must be ready before the app runs.
    pod({
      name: 'early', namespace: NS,
      containers: [{ name: 'app', command: ['bash', '-c', `curl -sS --fail --max-time 20 http://${host('web')}/hello.txt > '${join(files, 'early.out')}' 2>&1; echo "exit $?" >> '${join(files, 'early.out')}'; exec sleep infinity`] }],
    }),
  ]);
  await mesh.waitReady(NS, 'early');
}

describe('traffic through two sidecars', () => {
  const { mesh, diagnosed } = meshSuite('traffic', [NS], setup);

  it('injects skein-init and skein-proxy into every pod of the labelled namespace', diagnosed(async () => {
    for (const p of await mesh.pods(NS)) {
      const inits = (p.spec.initContainers ?? []).map((c) => c.name);
      const all = [...inits, ...p.spec.containers.map((c) => c.name)];
      assert.ok(inits.includes('skein-init'), `${p.metadata.name}: no skein-init in ${all.join(',')}`);
      assert.ok(all.includes(SIDECAR), `${p.metadata.name}: no ${SIDECAR} in ${all.join(',')}`);
    }
  }));

  it('curl reaches an HTTP server by Service name and by pod IP', diagnosed(async () => {
    const byName = await mesh.execOk(NS, 'client', ['curl', '-sS', '--fail', '--max-time', '20', `http://${host('web')}/hello.txt`]);
    assert.equal(byName, 'hello through the mesh\n');
    const ip = await mesh.podIP(NS, 'web');
    const hops = await observeHops(mesh, NS, 'client', 'web', async () => {
      const byIp = await mesh.execOk(NS, 'client', ['curl', '-sS', '--fail', '--max-time', '20', `http://${ip}:8080/hello.txt`]);
      assert.equal(byIp, 'hello through the mesh\n');
    });
    assert.equal(hops.clientOutbound, 1, hops.why);
    assert.equal(hops.serverInboundRequests, 1, hops.why);
  }));

  it('an app that dials at start-up gets through (its sidecar was ready before it ran)', diagnosed(async () => {
    const file = join(mesh.filesDir, 'early.out');
    const got = await pollUntil(async () => {
      const text = existsSync(file) ? readFileSync(file, 'utf8') : '';
      return text.includes('exit ') ? text : undefined;
    }, { what: `${file} to be written by the early pod`, timeoutMs: 30_000 });
    assert.equal(got, 'hello through the mesh\nexit 0\n');
  }));

  it('a pod reaches its own Service (out through its sidecar, back in through it)', diagnosed(async () => {
    const hops = await observeHops(mesh, NS, 'web', 'web', async () => {
      const body = await mesh.execOk(NS, 'web', ['curl', '-sS', '--fail', '--max-time', '20', `http://${host('web')}/hello.txt`]);
      assert.equal(body, 'hello through the mesh\n');
    });
    assert.equal(hops.clientOutbound, 1, hops.why);
    assert.equal(hops.serverInboundRequests, 1, hops.why);
  }));

  it('each app connection passes the client sidecar once and reaches the server sidecar (no recapture, no loop)', diagnosed(async () => {
    const n = 3;
    const [cBefore, sBefore] = [await mesh.stats(NS, 'client'), await mesh.stats(NS, 'web')];
    for (let i = 0; i < n; i++) {
      // One URL per curl run: exactly one TCP connection each.
      await mesh.execOk(NS, 'client', ['curl', '-sS', '--fail', '--max-time', '20', `http://${host('web')}/hello.txt`]);
    }
    const [cAfter, sAfter] = [await mesh.stats(NS, 'client'), await mesh.stats(NS, 'web')];
    const why = `client sidecar:\n${showDelta(delta(cBefore, cAfter))}\nweb sidecar:\n${showDelta(delta(sBefore, sAfter))}`;
    // Had the proxy's own upstream dial been captured again, the client sidecar would count 2n (or loop).
    assert.equal(outbound(cAfter) - outbound(cBefore), n, `client outbound connections should grow by ${n}\n${why}`);
    assert.equal(inbound(cAfter) - inbound(cBefore), 0, `client inbound should not move\n${why}`);
    assert.equal(sumOf(cAfter, OUTBOUND_HTTP_REQUESTS) - sumOf(cBefore, OUTBOUND_HTTP_REQUESTS), n, `client outbound requests\n${why}`);
    // Every request reached the server's sidecar. Its connection count may grow by less than n (even 0):
    // the client sidecar keeps its upstream connections alive and reuses them.
    assert.equal(sumOf(sAfter, INBOUND_HTTP_REQUESTS) - sumOf(sBefore, INBOUND_HTTP_REQUESTS), n, `web inbound requests\n${why}`);
    const inb = inbound(sAfter) - inbound(sBefore);
    assert.ok(inb <= n, `web inbound connections grew by ${inb}, more than the ${n} the client made\n${why}`);
    // The server sidecar's own dial to the app must not come back through its outbound listener.
    assert.equal(outbound(sAfter) - outbound(sBefore), 0, `web outbound should not move\n${why}`);
  }));

  it('redis-cli talks to redis-server (PING, SET, GET)', diagnosed(async () => {
    const cli = (...args: string[]): Promise<string> =>
      mesh.execOk(NS, 'client', ['redis-cli', '-h', host('redis'), '-p', '6379', ...args], { timeoutMs: 30_000 });
    const hops = await observeHops(mesh, NS, 'client', 'redis', async () => {
      assert.equal((await cli('PING')).trim(), 'PONG');
      const value = `v-${process.pid}-${Date.now()}`;
      assert.equal((await cli('SET', 'e2e:key', value)).trim(), 'OK');
      assert.equal((await cli('GET', 'e2e:key')).trim(), value);
    });
    // Plain TCP cannot be pooled: three redis-cli runs, three connections on each side.
    assert.equal(hops.clientOutbound, 3, hops.why);
    assert.equal(hops.serverInbound, 3, hops.why);
  }));

  it('curl --http2-prior-knowledge gets an answer from an h2c-only server', diagnosed(async () => {
    let out = '';
    const hops = await observeHops(mesh, NS, 'client', 'h2c', async () => {
      out = await mesh.execOk(NS, 'client', [
        'curl', '-sS', '--fail', '--max-time', '20', '--http2-prior-knowledge',
        '-w', '\n%{http_version}\n', '--data-binary', 'ping-h2', `http://${host('h2c')}/h2/path?q=1`,
      ]);
    });
    assert.equal(hops.clientOutbound, 1, hops.why);
    assert.ok(hops.serverInbound + hops.serverInboundRequests >= 1, `the h2c server's sidecar saw nothing\n${hops.why}`);
    const lines = out.trim().split('\n');
    const [body, version] = [lines[0], lines[lines.length - 1]];
    assert.equal(version, '2', `curl did not speak HTTP/2: ${out}`);
    const seen = JSON.parse(body ?? '') as { httpVersion: string; method: string; path: string; received: number };
    assert.deepEqual(seen, { httpVersion: '2.0', method: 'POST', path: '/h2/path?q=1', received: 7 });
  }));

  it('nghttp multiplexes three streams over one h2c connection', diagnosed(async () => {
    // nghttp uses prior knowledge for http:// URIs (no -u); -m 3 sends the request three times at once.
    let out = '';
    const hops = await observeHops(mesh, NS, 'client', 'h2c', async () => {
      out = await mesh.execOk(NS, 'client', ['nghttp', '-m', '3', '-t', '20', `http://${host('h2c')}/multiplexed`]);
    });
    assert.equal(hops.clientOutbound, 1, `three streams, one connection\n${hops.why}`);
    assert.ok(hops.serverInbound + hops.serverInboundRequests >= 1, `the h2c server's sidecar saw nothing\n${hops.why}`);
    const replies = out.trim().split('\n').map((l) => JSON.parse(l) as unknown);
    assert.equal(replies.length, 3, out);
    for (const r of replies) assert.deepEqual(r, { httpVersion: '2.0', method: 'GET', path: '/multiplexed', received: 0 });
  }));

  it('a WebSocket echo works through the mesh', diagnosed(async () => {
    let out = '';
    const hops = await observeHops(mesh, NS, 'client', 'ws', async () => {
      out = await mesh.execOk(NS, 'client', ['node', fixture('ws-client.js'), `ws://${host('ws')}/echo`, '6'], { timeoutMs: 45_000 });
    });
    assert.deepEqual(JSON.parse(out.trim()), { echoed: 6, closeCode: 1000 });
    assert.equal(hops.clientOutbound, 1, hops.why);
    assert.ok(hops.serverInbound + hops.serverInboundRequests >= 1, `the ws server's sidecar saw nothing\n${hops.why}`);
  }));

  it('100 MB upload over raw TCP arrives intact (sha256 at the server equals the sender\'s)', diagnosed(async () => {
    const big = join(mesh.filesDir, 'big.bin');
    // socat -t: after sending EOF, keep reading the reply for up to 60 s (a guard, not a timing).
    let out = '';
    const hops = await observeHops(mesh, NS, 'client', 'tcp', async () => {
      out = await mesh.shOk(NS, 'client', `socat -t 60 -T 60 - TCP:${host('tcp')}:9000 < '${big}'`, { timeoutMs: 90_000 });
    });
    assert.equal(out.trim().split(/\s+/)[0], bigSha, `server hashed: ${out}`);
    assert.equal(hops.clientOutbound, 1, hops.why);
    assert.equal(hops.serverInbound, 1, hops.why);
    // The 100 MB crossed the server's sidecar (counted when its connection closes).
    assert.ok(await hops.settle('server', INBOUND_BYTES_RX, BIG_BYTES) >= BIG_BYTES);
  }));

  it('100 MB HTTP download arrives intact (sha256 at the client equals the file\'s)', diagnosed(async () => {
    let out = '';
    const hops = await observeHops(mesh, NS, 'client', 'web', async () => {
      out = await mesh.shOk(NS, 'client',
        `set -o pipefail; curl -sS --fail --max-time 80 http://${host('web')}/big.bin | sha256sum`, { timeoutMs: 90_000 });
    });
    assert.equal(out.trim().split(/\s+/)[0], bigSha);
    assert.equal(hops.clientOutbound, 1, hops.why);
    assert.equal(hops.serverInboundRequests, 1, hops.why);
    // The 100 MB left the client's sidecar towards curl (counted when that connection closes).
    assert.ok(await hops.settle('client', OUTBOUND_BYTES_TX, BIG_BYTES) >= BIG_BYTES);
  }));

  it('a client that half-closes still reads the server\'s reply', diagnosed(async () => {
    // nc -N shuts down its write side after stdin's EOF and keeps reading until the server closes.
    let out = '';
    const hops = await observeHops(mesh, NS, 'client', 'tcp', async () => {
      out = await mesh.execOk(NS, 'client', ['nc', '-N', host('tcp'), '9001'], { input: 'pear\napple\nfig\n', timeoutMs: 30_000 });
    });
    assert.equal(out, 'apple\nfig\npear\n');
    assert.equal(hops.clientOutbound, 1, hops.why);
    assert.equal(hops.serverInbound, 1, hops.why);
  }));
});
