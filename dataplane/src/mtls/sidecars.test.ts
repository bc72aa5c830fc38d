// Two in-process sidecars with mTLS between them (client app → A outbound → [recording relay] → B inbound
// → app), real TLS over loopback: what the mesh promises end to end, at the dataplane's level.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import http from 'node:http';
import net from 'node:net';
import { WebSocket, WebSocketServer } from 'ws';
import { closeServer, listenOn, rawExchange, waitFor } from '../proxy/testing.js';
import type { OutboundRoute, RouteProtocol } from '../discovery/index.js';
import { createTestCa, type TestCa } from './testing/pki.js';
import { spiffe, startMeshProxy, TestDiscovery, TestIdentity, workloadCert, type MeshProxy } from './testing/mesh.js';

const A = spiffe('ns-a', 'client');
const B = spiffe('ns-b', 'server');
/** The address the client app dials (a Service VIP, say): only A's discovery knows where it goes. */
const VIP = { address: '10.96.0.10', port: 80, family: 4 as const };
const MARKER = 'skein-marker-7f3a9c';

/** A TCP relay that records every byte between the sidecars. */
async function relay(to: () => number): Promise<{ port: number; bytes: Buffer[]; server: net.Server }> {
  const bytes: Buffer[] = [];
  const server = net.createServer({ allowHalfOpen: true }, (a) => {
    const b = net.connect({ port: to(), host: '127.0.0.1', allowHalfOpen: true });
    for (const [x, y] of [[a, b], [b, a]] as const) {
      x.on('data', (d: Buffer) => { bytes.push(d); y.write(d); });
      x.on('end', () => y.end());
      x.on('error', () => y.destroy());
      x.on('close', () => y.destroy());
    }
  });
  return { port: await listenOn(server), bytes, server };
}

interface Pair { route: OutboundRoute; a: MeshProxy; b: MeshProxy; idA: TestIdentity; idB: TestIdentity; discA: TestDiscovery; discB: TestDiscovery; wire: Buffer[]; close(): Promise<void> }

async function pair(ca: TestCa, appPort: number, opts: {
  mode?: 'STRICT' | 'PERMISSIVE'; protocol?: RouteProtocol; flags?: string[]; certA?: Awaited<ReturnType<typeof workloadCert>>; podIP?: string;
} = {}): Promise<Pair> {
  const idA = new TestIdentity(opts.certA ?? await workloadCert(ca, A));
  const idB = new TestIdentity(await workloadCert(ca, B));
  const discB = new TestDiscovery({ trustAnchorsPem: [ca.certPem], mtlsMode: opts.mode ?? 'STRICT' });
  const b = await startMeshProxy({
    identity: idB, discovery: discB, inboundTo: { address: '127.0.0.1', port: appPort, family: 4 }, flags: opts.flags ?? [], podIP: opts.podIP ?? '127.0.0.9',
  });
  const r = await relay(() => b.inbound);
  const route: OutboundRoute = { kind: 'endpoint', host: '127.0.0.1', port: r.port, spiffeId: B, protocol: opts.protocol ?? 'detect', service: 'ns-b/server' };
  const discA = new TestDiscovery({ trustAnchorsPem: [ca.certPem], routes: { [`${VIP.address}:${VIP.port}`]: route } });
  const a = await startMeshProxy({ identity: idA, discovery: discA, outboundTo: VIP, flags: opts.flags ?? [] });
  return {
    route, a, b, idA, idB, discA, discB, wire: r.bytes,
    close: async () => { await a.close(); await b.close(); await closeServer(r.server); },
  };
}

function get(port: number, headers: Record<string, string> = {}, agent?: http.Agent): Promise<{ status: number; body: string; headers: http.IncomingHttpHeaders }> {
  return new Promise((resolve, reject) => {
    const req = http.get({ host: '127.0.0.1', port, path: `/?q=${MARKER}`, headers: { 'x-marker': MARKER, ...headers }, ...(agent ? { agent } : {}) }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => { body += c; });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body, headers: res.headers }));
    });
    req.on('error', reject);
  });
}

/** skein/h1 connections A opened (full handshakes or resumed from the pre-dial's session). */
const h1Handshakes = (stats: Record<string, number>): number =>
  (stats['skein_tls_handshakes_total{direction="outbound",alpn="skein/h1",resumed="false"}'] ?? 0) +
  (stats['skein_tls_handshakes_total{direction="outbound",alpn="skein/h1",resumed="true"}'] ?? 0);

const inClear = (wire: Buffer[]): boolean => Buffer.concat(wire).includes(MARKER);

describe('two sidecars with mTLS', () => {
  let ca: TestCa;
  let otherCa: TestCa;
  const app = http.createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => { body += c.toString(); });
    req.on('end', () => res.end(JSON.stringify({
      peer: req.headers['x-skein-peer-identity'] ?? null, marker: req.headers['x-marker'] ?? null, echo: `${MARKER}-reply`, ...(body ? { body } : {}),
    })));
  });
  const wss = new WebSocketServer({ server: app });
  wss.on('connection', (ws, req) => {
    ws.send(`peer=${String(req.headers['x-skein-peer-identity'])}`);
    ws.on('message', (m) => ws.send(`echo:${m.toString()}`));
  });
  let appPort: number;
  // Echoes, for TCP; a server-first one writes a banner on accept.
  const echo = net.createServer({ allowHalfOpen: true }, (s) => { s.on('error', () => undefined); s.pipe(s); });
  let echoPort: number;
  const banner = net.createServer((s) => { s.on('error', () => undefined); s.write(`SSH-2.0-${MARKER}\r\n`); s.pipe(s); });
  let bannerPort: number;
  before(async () => {
    ca = await createTestCa();
    otherCa = await createTestCa('another mesh');
    appPort = await listenOn(app);
    echoPort = await listenOn(echo);
    bannerPort = await listenOn(banner);
  });
  after(async () => {
    await closeServer(app);
    await closeServer(echo);
    await closeServer(banner);
  });

  it('HTTP: encrypted between the sidecars, pooled, the app gets the caller\'s identity and never a forged one', async () => {
    const p = await pair(ca, appPort);
    try {
      const agent = new http.Agent({ keepAlive: false });
      for (let i = 0; i < 3; i++) {
        const r = await get(p.a.outbound, { 'x-skein-peer-identity': 'spiffe://cluster.local/ns/evil/sa/forged' }, agent);
        assert.equal(r.status, 200, r.body);
        assert.deepEqual(JSON.parse(r.body), { peer: A, marker: MARKER, echo: `${MARKER}-reply` });
      }
      assert.ok(p.wire.length > 0, 'bytes went through the relay');
      assert.equal(inClear(p.wire), false, 'the marker crossed the wire in clear');
      // Three client connections, one kept-alive mTLS connection between the sidecars.
      assert.equal(h1Handshakes(await p.a.stats()), 1);
      await waitFor(() => p.b.logs.some((l) => l.msg === 'request' && l.peer === A), 'an access line with the peer identity');
    } finally {
      await p.close();
    }
  });

  it('the http-proxy path over mTLS: a chunked body, Expect: 100-continue and a WebSocket reach the app with the caller\'s identity', async () => {
    const p = await pair(ca, appPort, { protocol: 'http' });
    try {
      const chunked = await rawExchange(p.a.outbound, 'POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n' +
        `x-skein-peer-identity: forged\r\nConnection: close\r\n\r\n${MARKER.length.toString(16)}\r\n${MARKER}\r\n0\r\n\r\n`);
      assert.match(chunked, /^HTTP\/1\.1 200 /);
      assert.deepEqual(JSON.parse(chunked.slice(chunked.indexOf('\r\n\r\n') + 4).replace(/^[0-9a-f]+\r\n|\r\n0\r\n\r\n$/g, '')),
        { peer: A, marker: null, echo: `${MARKER}-reply`, body: MARKER });
      const expect = await new Promise<string>((resolve, reject) => {
        const req = http.request({ host: '127.0.0.1', port: p.a.outbound, method: 'POST', headers: { expect: '100-continue', 'content-length': 4 } });
        req.on('continue', () => req.end('body'));
        req.on('response', (res) => { let b = ''; res.on('data', (c: Buffer) => { b += c.toString(); }); res.on('end', () => resolve(b)); });
        req.on('error', reject);
      });
      assert.equal(JSON.parse(expect).peer, A);
      const ws = new WebSocket(`ws://127.0.0.1:${p.a.outbound}/`, { headers: { 'x-skein-peer-identity': 'forged' } });
      const messages: string[] = [];
      ws.on('message', (m) => messages.push(m.toString()));
      await new Promise((resolve, reject) => { ws.once('open', resolve); ws.once('error', reject); });
      ws.send(MARKER);
      await waitFor(() => messages.length === 2, 'two WebSocket messages');
      assert.deepEqual(messages, [`peer=${A}`, `echo:${MARKER}`]);
      ws.close();
      assert.equal(inClear(p.wire), false);
    } finally {
      await p.close();
    }
  });

  it('opaque TCP: encrypted, one skein/tcp connection each, the second resumes the session, none after a trust-bundle change', async () => {
    const p = await pair(ca, echoPort, { protocol: 'tcp' });
    try {
      assert.equal(await rawExchange(p.a.outbound, `${MARKER}-1`), `${MARKER}-1`);
      assert.equal(await rawExchange(p.a.outbound, `${MARKER}-2`), `${MARKER}-2`);
      assert.equal(inClear(p.wire), false);
      let stats = await p.a.stats();
      assert.equal(stats['skein_tls_handshakes_total{direction="outbound",alpn="skein/tcp",resumed="true"}'], 1);
      const rotated = [ca.certPem, otherCa.certPem];
      p.discA.set({ trustAnchorsPem: rotated, routes: { [`${VIP.address}:${VIP.port}`]: p.route } });
      assert.equal(await rawExchange(p.a.outbound, `${MARKER}-3`), `${MARKER}-3`);
      stats = await p.a.stats();
      assert.equal(stats['skein_tls_handshakes_total{direction="outbound",alpn="skein/tcp",resumed="true"}'], 1, 'no resumption across the change');
      const closing = p.b.logs.find((l) => l.msg === 'connection closed' && l.peer === A);
      assert.ok(closing, 'B\'s closing line names the peer');
    } finally {
      await p.close();
    }
  });

  it('opaque TCP over mTLS carries 32 MiB each way intact (the pumps on TLS sockets, backpressure, half-close)', async () => {
    const p = await pair(ca, echoPort, { protocol: 'tcp' });
    try {
      const data = randomBytes(32 * 1024 * 1024);
      const socket = net.connect({ port: p.a.outbound, host: '127.0.0.1', allowHalfOpen: true });
      const back = createHash('sha256');
      let received = 0;
      socket.on('data', (d: Buffer) => { back.update(d); received += d.length; });
      await new Promise<void>((resolve, reject) => {
        socket.once('connect', () => { socket.end(data); });
        socket.once('end', () => resolve());
        socket.once('error', reject);
      });
      socket.destroy();
      assert.equal(received, data.length);
      assert.equal(back.digest('hex'), createHash('sha256').update(data).digest('hex'));
    } finally {
      await p.close();
    }
  });

  it('STRICT refuses plaintext from outside the mesh; PERMISSIVE accepts it unauthenticated, forged identity stripped', async () => {
    const strict = await pair(ca, appPort, { mode: 'STRICT' });
    try {
      const reply = await rawExchange(strict.b.inbound, 'GET / HTTP/1.1\r\nHost: a\r\n\r\n');
      assert.equal(reply, '');
      const stats = await strict.b.stats();
      assert.equal(stats['skein_dp_refused_total{direction="inbound",reason="plaintext_strict"}'], 1);
      // From the pod's own IP (B's POD_IP is 127.0.0.9 here): in-pod traffic such as gRPC probes passes.
      const local = await new Promise<string>((resolve, reject) => {
        const socket = net.connect({ port: strict.b.inbound, host: '127.0.0.1', localAddress: '127.0.0.9' });
        let data = '';
        socket.on('connect', () => socket.write('GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n'));
        socket.on('data', (d: Buffer) => { data += d.toString(); });
        socket.on('close', () => resolve(data));
        socket.on('error', reject);
      });
      assert.match(local, /^HTTP\/1\.1 200 /);
      assert.equal(JSON.parse(local.slice(local.indexOf('\r\n\r\n') + 4)).peer, null);
    } finally {
      await strict.close();
    }
    const permissive = await pair(ca, appPort, { mode: 'PERMISSIVE' });
    try {
      const r = await get(permissive.b.inbound, { 'x-skein-peer-identity': A });
      assert.equal(r.status, 200);
      assert.equal(JSON.parse(r.body).peer, null);
      // And meshed callers still get theirs.
      assert.equal(JSON.parse((await get(permissive.a.outbound)).body).peer, A);
    } finally {
      await permissive.close();
    }
  });

  it('a caller with a certificate from another CA is refused by the server sidecar (502 for the app, counted)', async () => {
    const p = await pair(ca, appPort, { certA: await workloadCert(otherCa, A, {}, [ca.certPem]) });
    try {
      const r = await get(p.a.outbound);
      assert.equal(r.status, 502);
      await waitFor(() => p.b.logs.some((l) => l.reason === 'unknown_ca'), 'the refusal logged');
      const stats = await p.b.stats();
      assert.equal(stats['skein_tls_handshake_failures_total{direction="inbound",reason="unknown_ca"}'], 1);
      assert.equal(inClear(p.wire), false);
    } finally {
      await p.close();
    }
  });

  it('a server sidecar with another identity than discovery says is refused by the client sidecar', async () => {
    const p = await pair(ca, appPort);
    try {
      p.idB.set(await workloadCert(ca, spiffe('ns-b', 'impostor')));
      const r = await get(p.a.outbound);
      assert.equal(r.status, 502);
      assert.equal(r.headers['x-skein-error'], 'upstream_tls_failed');
      const stats = await p.a.stats();
      // The pre-dial (skein/tcp) and the pooled connection (skein/h1) both refused it.
      assert.ok((stats['skein_tls_handshake_failures_total{direction="outbound",reason="wrong_identity"}'] ?? 0) >= 1);
    } finally {
      await p.close();
    }
  });

  it('a renewal: an open connection keeps flowing, new connections use the new certificates', async () => {
    const p = await pair(ca, echoPort, { protocol: 'tcp' });
    try {
      const long = net.connect(p.a.outbound, '127.0.0.1');
      let got = '';
      long.on('data', (d: Buffer) => { got += d.toString(); });
      long.write('before;');
      await waitFor(() => got === 'before;', 'the first echo');
      p.idA.set(await workloadCert(ca, A));
      p.idB.set(await workloadCert(ca, B));
      assert.equal(await rawExchange(p.a.outbound, 'new connection'), 'new connection');
      long.write('after;');
      await waitFor(() => got === 'before;after;', 'the old connection still flows');
      long.destroy();
      const stats = await p.a.stats();
      // Our certificate changed: the session of the old one is not resumed.
      assert.equal(stats['skein_tls_handshakes_total{direction="outbound",alpn="skein/tcp",resumed="false"}'], 2);
    } finally {
      await p.close();
    }
  });

  it('a server-first server answers a silent client through both sidecars without waiting for detection', async () => {
    const p = await pair(ca, bannerPort, { flags: ['--detect-timeout', '5s'] });
    try {
      const started = Date.now();
      const socket = net.connect(p.a.outbound, '127.0.0.1');
      const first = await new Promise<string>((resolve, reject) => {
        socket.once('data', (d: Buffer) => resolve(d.toString()));
        socket.once('error', reject);
      });
      assert.equal(first, `SSH-2.0-${MARKER}\r\n`);
      assert.ok(Date.now() - started < 5000, 'the banner came before the 5 s detect timeout');
      // The connection then carries the client's bytes too (opaque, both ways).
      socket.write('ping');
      const echoed = await new Promise<string>((resolve) => socket.once('data', (d: Buffer) => resolve(d.toString())));
      assert.equal(echoed, 'ping');
      socket.destroy();
      assert.equal(inClear(p.wire), false);
      const stats = await p.a.stats();
      assert.equal(stats['skein_dp_protocol_detections_total{direction="outbound",protocol="opaque",reason="server_first"}'], 1);
    } finally {
      await p.close();
    }
  });

  it('a server-first server off the mesh (passthrough) also answers a silent client without waiting for detection', async () => {
    const p = await pair(ca, appPort, { flags: ['--detect-timeout', '5s'] });
    const a2 = await startMeshProxy({ identity: p.idA, discovery: p.discA, outboundTo: { address: '127.0.0.1', port: bannerPort, family: 4 }, flags: ['--detect-timeout', '5s'] });
    try {
      const socket = net.connect(a2.outbound, '127.0.0.1');
      const first = await new Promise<string>((resolve, reject) => {
        socket.once('data', (d: Buffer) => resolve(d.toString()));
        socket.once('error', reject);
      });
      assert.equal(first, `SSH-2.0-${MARKER}\r\n`);
      socket.destroy();
      const stats = await a2.stats();
      assert.equal(stats['skein_dp_protocol_detections_total{direction="outbound",protocol="opaque",reason="server_first"}'], 1);
    } finally {
      await a2.close();
      await p.close();
    }
  });

  it('PERMISSIVE on an opaque port: a plaintext client is forwarded untouched after a short peek, a meshed one over mTLS', async () => {
    const p = await pair(ca, echoPort, { mode: 'PERMISSIVE', protocol: 'tcp', flags: ['--opaque-ports', String(echoPort)] });
    try {
      const raw = await rawExchange(p.b.inbound, 'GET / HTTP/1.1\r\nHost: a\r\n\r\n');
      assert.equal(raw, 'GET / HTTP/1.1\r\nHost: a\r\n\r\n', 'not parsed as HTTP: echoed as bytes');
      assert.equal(await rawExchange(p.a.outbound, MARKER), MARKER);
      assert.equal(inClear(p.wire), false);
    } finally {
      await p.close();
    }
  });

  it('an HTTP client pays the pre-dial once per destination: learned as HTTP, later connections go straight to the pool', async () => {
    const p = await pair(ca, appPort);
    try {
      const agent = new http.Agent({ keepAlive: false });
      for (let i = 0; i < 3; i++) assert.equal((await get(p.a.outbound, {}, agent)).status, 200);
      const stats = await p.a.stats();
      // One skein/tcp pre-dial (the first connection, closed when it spoke HTTP), one pooled skein/h1.
      assert.equal(stats['skein_tls_handshakes_total{direction="outbound",alpn="skein/tcp",resumed="false"}'] ?? 0, 1);
      assert.equal(h1Handshakes(stats), 1);
    } finally {
      await p.close();
    }
  });
});
