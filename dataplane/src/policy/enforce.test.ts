// Authorization end to end through two in-process sidecars with real mTLS on loopback (client → A
// outbound → mTLS → B inbound → app): the path tricks of the reliability checklist and issue 9 against
// a real app, 403 naming the policy with nothing sent upstream, the app receiving the normalised path,
// opaque TCP decided before the app is dialled (no server-first banner for a denied client), and
// revocation of open TCP and WebSocket connections when a new snapshot arrives.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import net from 'node:net';
import { WebSocket, WebSocketServer } from 'ws';
import type { discovery as api } from '@skein/api';
import type { OutboundRoute, RouteProtocol } from '../discovery/index.js';
import { createTestCa, type TestCa } from '../mtls/testing/pki.js';
import { spiffe, startMeshProxy, TestDiscovery, TestIdentity, workloadCert, type MeshProxy } from '../mtls/testing/mesh.js';
import { closeServer, listenOn, rawExchange, waitFor } from '../proxy/testing.js';
import { createMetrics } from '../metrics/index.js';
import { createLogControl } from '../log/index.js';
import { permission, PolicyDiscovery, type PolicySpec } from './testing/discovery.js';
import { InboundAuthz } from './enforce.js';
import { policyDump } from './dump.js';

const A = spiffe('ns-a', 'client');
const B = spiffe('ns-b', 'server');
const VIP = { address: '10.96.0.20', port: 80, family: 4 as const };

interface Pair { a: MeshProxy; b: MeshProxy; discB: PolicyDiscovery; close(): Promise<void> }

async function pair(ca: TestCa, appPort: number, spec: Omit<PolicySpec, 'trustAnchorsPem'>, opts: { protocol?: RouteProtocol; flags?: string[]; clientId?: string } = {}): Promise<Pair> {
  const discB = new PolicyDiscovery({ trustAnchorsPem: [ca.certPem], ...spec });
  const b = await startMeshProxy({
    identity: new TestIdentity(await workloadCert(ca, B)), discovery: discB,
    inboundTo: { address: '127.0.0.1', port: appPort, family: 4 }, flags: opts.flags ?? [], podIP: '127.0.0.9',
  });
  const route: OutboundRoute = { kind: 'endpoint', host: '127.0.0.1', port: b.inbound, spiffeId: B, protocol: opts.protocol ?? 'http', service: 'ns-b/server' };
  const discA = new TestDiscovery({ trustAnchorsPem: [ca.certPem], routes: { [`${VIP.address}:${VIP.port}`]: route } });
  const a = await startMeshProxy({ identity: new TestIdentity(await workloadCert(ca, opts.clientId ?? A)), discovery: discA, outboundTo: VIP, flags: opts.flags ?? [] });
  return { a, b, discB, close: async () => { await a.close(); await b.close(); discB.stop(); } };
}

/** One raw HTTP/1.1 request (Connection: close): status and body. */
async function raw(port: number, method: string, target: string, extra = ''): Promise<{ status: number; body: string; head: string }> {
  const reply = await rawExchange(port, `${method} ${target} HTTP/1.1\r\nHost: orders\r\nConnection: close\r\n${extra}\r\n`);
  const split = reply.indexOf('\r\n\r\n');
  const head = split < 0 ? reply : reply.slice(0, split);
  return { status: Number(/^HTTP\/1\.1 (\d{3})/.exec(reply)?.[1] ?? 0), body: split < 0 ? '' : reply.slice(split + 4), head };
}

const ordersAllow = (appPort: number): api.TrafficPermission => permission('ns-b', 'orders-from-client', 'Allow',
  [{ serviceAccounts: ['ns-a/client'] }], [{ ports: [appPort], methods: ['GET'], paths: ['/orders', '/orders/*'] }]);
const secretDeny = permission('ns-b', 'no-secret', 'Deny', [], [{ paths: ['/orders/secret/*'] }]);

const denied = (policy: string, reason = policy === 'default' ? 'default' : policy.includes('/') ? 'no_allow_matched' : policy): string =>
  `${JSON.stringify({ error: 'denied', policy, reason })}\n`;

describe('authorization through two sidecars with mTLS', () => {
  let ca: TestCa;
  const seen: string[] = [];
  const app = http.createServer((req, res) => {
    seen.push(`${req.method} ${req.url}`);
    req.resume();
    req.on('end', () => res.end(JSON.stringify({ url: req.url, peer: req.headers['x-skein-peer-identity'] ?? null })));
  });
  const wss = new WebSocketServer({ server: app });
  wss.on('connection', (ws) => ws.on('message', (m) => ws.send(`echo:${m.toString()}`)));
  let appPort: number;
  const echo = net.createServer({ allowHalfOpen: true }, (s) => { s.on('error', () => undefined); s.pipe(s); });
  let echoPort: number;
  let bannerConnections = 0;
  const banner = net.createServer((s) => { bannerConnections++; s.on('error', () => undefined); s.end('220 smtp.example ESMTP ready\r\n'); });
  let bannerPort: number;

  before(async () => {
    ca = await createTestCa();
    appPort = await listenOn(app);
    echoPort = await listenOn(echo);
    bannerPort = await listenOn(banner);
  });
  after(async () => {
    await closeServer(app);
    await closeServer(echo);
    await closeServer(banner);
  });

  it('the path tricks: refused (400) or judged on the normalised path, which is what the app receives; nothing denied reaches the app', async () => {
    const p = await pair(ca, appPort, { policies: [ordersAllow(appPort), secretDeny] });
    try {
      // [method, target, status, what the app got (or the deciding policy of a 403)]
      const cases: Array<[string, string, number, string]> = [
        ['GET', '/orders/1', 200, '/orders/1'],
        ['GET', '/orders', 200, '/orders'],
        ['GET', '/orders/1?x=/../admin', 200, '/orders/1?x=/../admin'],
        ['GET', '/orders/../admin', 403, 'ns-b/orders-from-client'],
        ['GET', '/orders/1/../../admin', 403, 'ns-b/orders-from-client'],
        ['GET', '/orders/%2e%2e/admin', 403, 'ns-b/orders-from-client'],
        ['GET', '/%6Frders/1', 200, '/orders/1'],
        ['GET', '/%6frders/%31', 200, '/orders/1'],
        ['GET', '//orders', 200, '/orders'],
        ['GET', '/orders//1', 200, '/orders/1'],
        ['GET', '//admin', 403, 'ns-b/orders-from-client'],
        ['GET', '/orders%2F..%2Fadmin', 400, ''],
        ['GET', '/orders/1%2F..%2F..%2Fadmin', 400, ''],
        ['GET', '/orders%5C..%5Cadmin', 400, ''],
        ['GET', '/ORDERS/1', 403, 'ns-b/orders-from-client'],
        ['GET', '/Orders', 403, 'ns-b/orders-from-client'],
        ['GET', '/orders\\..\\admin', 400, ''],
        ['GET', '/orders/1;jsessionid=x', 200, '/orders/1'],
        ['GET', '/admin;/orders/1', 403, 'ns-b/orders-from-client'],
        ['GET', '/orders;/../admin', 403, 'ns-b/orders-from-client'],
        ['GET', '/orders/..;/admin', 400, ''],
        ['GET', '/orders/1#frag', 200, '/orders/1'],
        ['GET', '/admin#/../orders/1', 403, 'ns-b/orders-from-client'],
        ['GET', '/orders/%00', 400, ''],
        ['GET', '/orders/a%zz', 400, ''],
        ['GET', '/orders/a%', 400, ''],
        ['GET', '/orders/%ff', 400, ''],
        ['GET', '/orders/secret/x', 403, 'ns-b/no-secret'],
        ['GET', '/orders/SECRET/x', 403, 'ns-b/no-secret'],
        ['GET', '/orders/secret', 403, 'ns-b/no-secret'],
        ['GET', '/orders/secret/', 403, 'ns-b/no-secret'],
        ['GET', '/orders/./secret/x', 403, 'ns-b/no-secret'],
        ['GET', '/orders/%73ecret/x', 403, 'ns-b/no-secret'],
        ['GET', '/orders/secret;x/y', 403, 'ns-b/no-secret'],
        ['POST', '/orders/1', 403, 'ns-b/orders-from-client'],
        ['HEAD', '/orders/1', 403, 'ns-b/orders-from-client'],
        ['GET', 'http://evil.example/orders/../admin', 403, 'ns-b/orders-from-client'],
        ['GET', 'http://evil.example/%6Frders/2', 200, '/orders/2'],
      ];
      for (const [method, target, status, expected] of cases) {
        seen.length = 0;
        const r = await raw(p.a.outbound, method, target, method === 'POST' ? 'Content-Length: 0\r\n' : '');
        assert.equal(r.status, status, `${method} ${target}: ${r.head}`);
        if (status === 200) {
          assert.deepEqual(JSON.parse(r.body), { url: expected, peer: A }, `${method} ${target}`);
          assert.deepEqual(seen, [`${method} ${expected}`]);
        } else {
          assert.deepEqual(seen, [], `${method} ${target} reached the app`);
          if (status === 403 && method !== 'HEAD') assert.equal(r.body, denied(expected, expected === 'ns-b/no-secret' ? 'deny' : 'no_allow_matched'), `${method} ${target}`);
          if (status === 403) assert.match(r.head, /x-skein-error: denied/, `${method} ${target}`);
          else assert.match(r.head, /x-skein-error: ambiguous_path/, `${method} ${target}`);
        }
      }
      // Lower-case methods never get that far (llhttp refuses them before any decision).
      seen.length = 0;
      assert.notEqual((await raw(p.a.outbound, 'get', '/orders/1')).status, 200);
      assert.deepEqual(seen, []);

      const stats = await p.b.stats();
      assert.ok((stats['skein_authz_decisions_total{direction="inbound",policy="ns-b/orders-from-client",outcome="allowed"}'] ?? 0) >= 10);
      assert.ok((stats['skein_authz_decisions_total{direction="inbound",policy="ns-b/no-secret",outcome="denied"}'] ?? 0) >= 6);
      assert.ok((stats['skein_authz_decisions_total{direction="inbound",policy="ns-b/orders-from-client",outcome="denied"}'] ?? 0) >= 10);
      assert.ok((stats['skein_dp_refused_total{direction="inbound",reason="ambiguous_path"}'] ?? 0) >= 9);
      // Every request's line names the policy that decided it, with the caller and the normalised path.
      const lines = p.b.logs.filter((l) => l.msg === 'request');
      const allowed = lines.find((l) => l.path === '/orders/2');
      assert.equal(allowed?.policy, 'ns-b/orders-from-client');
      assert.equal(allowed?.peer, A);
      const deniedLine = lines.find((l) => l.path === '/orders/secret/x');
      assert.equal(deniedLine?.policy, 'ns-b/no-secret');
      // A trick is logged as the path it was judged on.
      assert.ok(lines.some((l) => l.path === '/admin' && l.status === 403 && l.policy === 'ns-b/orders-from-client'));
      assert.ok(!lines.some((l) => typeof l.path === 'string' && l.path.includes('..') && l.status !== 400));
      assert.equal(deniedLine?.status, 403);
      assert.equal(deniedLine?.error, 'denied');
    } finally {
      await p.close();
    }
  });

  it('unauthenticated vs "*": an Allow for any service account lets a meshed caller in, not plaintext (PERMISSIVE)', async () => {
    const p = await pair(ca, appPort, { mtlsMode: 'PERMISSIVE', policies: [permission('ns-b', 'any-meshed', 'Allow', [{ serviceAccounts: ['*'] }])] });
    try {
      assert.equal((await raw(p.a.outbound, 'GET', '/x')).status, 200);
      const plain = await raw(p.b.inbound, 'GET', '/x');
      assert.equal(plain.status, 403);
      assert.equal(plain.body, denied('ns-b/any-meshed', 'no_allow_matched'));
      // An Allow with no `from` is for everyone, authenticated or not.
      p.discB.set({ trustAnchorsPem: [ca.certPem], mtlsMode: 'PERMISSIVE', policies: [permission('ns-b', 'anyone', 'Allow')] });
      assert.equal((await raw(p.b.inbound, 'GET', '/x')).status, 200);
      const line = p.b.logs.find((l) => l.msg === 'request' && l.policy === 'ns-b/anyone');
      assert.ok(line, 'the plaintext request\'s line names the policy');
    } finally {
      await p.close();
    }
  });

  it('no policy: the Mesh default decides, Deny and Allow; a Deny beats an Allow', async () => {
    const p = await pair(ca, appPort, { defaultAction: 'Deny' });
    try {
      seen.length = 0;
      const r = await raw(p.a.outbound, 'GET', '/orders/1');
      assert.equal(r.status, 403);
      assert.equal(r.body, denied('default'));
      assert.deepEqual(seen, []);
      p.discB.set({ trustAnchorsPem: [ca.certPem], defaultAction: 'Allow' });
      assert.equal((await raw(p.a.outbound, 'GET', '/orders/1')).status, 200);
      p.discB.set({
        trustAnchorsPem: [ca.certPem], defaultAction: 'Allow', policies: [
          permission('ns-b', 'all', 'Allow'), permission('ns-b', 'not-client', 'Deny', [{ serviceAccounts: ['ns-a/client'] }]),
        ],
      });
      const d = await raw(p.a.outbound, 'GET', '/orders/1');
      assert.equal(d.status, 403);
      assert.equal(d.body, denied('ns-b/not-client', 'deny'));
    } finally {
      await p.close();
    }
  });

  it('a policy change applies to the next request on an open keep-alive connection, which is not dropped', async () => {
    const p = await pair(ca, appPort, { policies: [ordersAllow(appPort)] });
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    const get = (): Promise<{ status: number; reused: boolean }> => new Promise((resolve, reject) => {
      const req = http.get({ host: '127.0.0.1', port: p.a.outbound, path: '/orders/1', agent }, (res) => {
        res.resume();
        res.on('end', () => resolve({ status: res.statusCode ?? 0, reused: req.reusedSocket }));
      });
      req.on('error', reject);
    });
    try {
      assert.deepEqual(await get(), { status: 200, reused: false });
      p.discB.set({ trustAnchorsPem: [ca.certPem], policies: [permission('ns-b', 'only-bills', 'Allow', [{ serviceAccounts: ['ns-a/bills'] }])] });
      assert.deepEqual(await get(), { status: 403, reused: true });
      p.discB.set({ trustAnchorsPem: [ca.certPem], policies: [ordersAllow(appPort)] });
      assert.deepEqual(await get(), { status: 200, reused: true });
    } finally {
      agent.destroy();
      await p.close();
    }
  });

  it('an HTTP client on a route to be detected (the peer pre-dials skein/tcp) gets through a path-only Allow', async () => {
    const p = await pair(ca, appPort, { policies: [ordersAllow(appPort)] }, { protocol: 'detect' });
    try {
      // The client speaks only once B has judged A's pre-dial (denied at L4: the Allow has HTTP conditions).
      const handshakes = async (): Promise<number> => (await p.b.stats())['skein_tls_handshakes_total{direction="inbound",alpn="skein/tcp",resumed="false"}'] ?? 0;
      const socket = net.connect({ port: p.a.outbound, host: '127.0.0.1' });
      socket.on('error', () => undefined);
      await new Promise((resolve) => socket.once('connect', resolve));
      let count = 0;
      await waitFor(() => { void handshakes().then((n) => { count = n; }); return count === 1; }, 'the pre-dial reached B');
      let reply = '';
      socket.on('data', (d: Buffer) => { reply += d.toString(); });
      socket.write('GET /orders/1 HTTP/1.1\r\nHost: orders\r\nConnection: close\r\n\r\n');
      await new Promise((resolve) => socket.once('close', resolve));
      assert.match(reply, /^HTTP\/1\.1 200 /);
      for (let i = 0; i < 3; i++) assert.equal((await raw(p.a.outbound, 'GET', '/orders/1')).status, 200);
      assert.equal((await raw(p.a.outbound, 'GET', '/admin')).status, 403);
      // The unused pre-dial is neither counted nor logged as a denial.
      await waitFor(() => p.b.logs.some((l) => l.msg === 'connection closed' && l.outcome === 'unused_denied'), 'the pre-dial closed unused');
      assert.equal(p.b.logs.filter((l) => l.msg === 'connection denied').length, 0);
    } finally {
      await p.close();
    }
  });

  it('opaque TCP: allowed by source identity; a denied client never sees the server-first banner, the server is never dialled', async () => {
    const p = await pair(ca, bannerPort, {
      policies: [permission('ns-b', 'smtp-from-mailer', 'Allow', [{ serviceAccounts: ['ns-a/mailer'] }], [{ ports: [bannerPort] }])],
    }, { protocol: 'tcp', flags: ['--detect-timeout', '200ms'] });
    try {
      bannerConnections = 0;
      const got = await rawExchange(p.a.outbound, '', { end: false });
      assert.equal(got, '', 'a denied client got bytes');
      assert.equal(bannerConnections, 0, 'the server was dialled for a denied client');
      await waitFor(() => p.b.logs.some((l) => l.msg === 'connection closed' && l.outcome === 'denied'), 'the denial in the closing line');
      const closing = p.b.logs.find((l) => l.msg === 'connection closed' && l.outcome === 'denied');
      assert.equal(closing?.policy, 'ns-b/smtp-from-mailer');
      assert.equal(closing?.peer, A);
      const line = p.b.logs.find((l) => l.msg === 'connection denied');
      assert.equal(line?.source, A);
      assert.equal(line?.policy, 'ns-b/smtp-from-mailer');
      assert.equal(line?.reason, 'no_allow_matched');
      assert.equal((await p.b.stats())['skein_authz_decisions_total{direction="inbound",policy="ns-b/smtp-from-mailer",outcome="denied"}'], 1);
    } finally {
      await p.close();
    }
    const allowed = await pair(ca, bannerPort, {
      policies: [permission('ns-b', 'smtp-from-client', 'Allow', [{ serviceAccounts: ['ns-a/client'] }], [{ ports: [bannerPort] }])],
    }, { protocol: 'tcp' });
    try {
      assert.equal(await rawExchange(allowed.a.outbound, '', { end: false }), '220 smtp.example ESMTP ready\r\n');
      assert.equal(bannerConnections, 1);
      await waitFor(() => allowed.b.logs.some((l) => l.msg === 'connection closed'), 'the closing line');
      assert.equal(allowed.b.logs.find((l) => l.msg === 'connection closed')?.policy, 'ns-b/smtp-from-client');
    } finally {
      await allowed.close();
    }
  });

  it('a rule with methods or paths on an opaque port fails closed: its Allow never lets a TCP connection through', async () => {
    const p = await pair(ca, echoPort, {
      defaultAction: 'Allow', opaquePorts: [echoPort],
      policies: [permission('ns-b', 'http-rule-on-tcp', 'Allow', [{ serviceAccounts: ['ns-a/client'] }], [{ ports: [echoPort], methods: ['GET'] }])],
    }, { protocol: 'tcp' });
    try {
      assert.equal(await rawExchange(p.a.outbound, 'PING\r\n'), '');
      p.discB.set({
        trustAnchorsPem: [ca.certPem], opaquePorts: [echoPort],
        policies: [permission('ns-b', 'tcp-rule', 'Allow', [{ serviceAccounts: ['ns-a/client'] }], [{ ports: [echoPort] }])],
      });
      assert.equal(await rawExchange(p.a.outbound, 'PING\r\n'), 'PING\r\n');
    } finally {
      await p.close();
    }
  });

  it('a tunnel (CONNECT, a non-WebSocket upgrade) is opaque afterwards: it needs an Allow without HTTP conditions', async () => {
    const pathOnly = permission('ns-b', 'orders', 'Allow', [], [{ paths: ['/orders/*'] }]);
    const p = await pair(ca, appPort, { mtlsMode: 'PERMISSIVE', policies: [pathOnly] });
    try {
      seen.length = 0;
      assert.equal((await raw(p.b.inbound, 'GET', '/orders/1')).status, 200);
      const upgrade = await raw(p.b.inbound, 'GET', '/orders/1', 'Upgrade: h2c\r\nConnection: Upgrade\r\n');
      assert.equal(upgrade.status, 403);
      assert.equal(upgrade.body, denied('ns-b/orders', 'no_allow_matched'));
      const connect = await raw(p.b.inbound, 'CONNECT', 'orders:443');
      assert.equal(connect.status, 403);
      assert.deepEqual(seen, ['GET /orders/1']);
      // Allowed on the port alone: the upgrade goes through (the app answers it as it likes).
      p.discB.set({ trustAnchorsPem: [ca.certPem], mtlsMode: 'PERMISSIVE', policies: [permission('ns-b', 'port', 'Allow', [], [{ ports: [appPort] }])] });
      assert.notEqual((await raw(p.b.inbound, 'GET', '/orders/1', 'Upgrade: h2c\r\nConnection: Upgrade\r\n')).status, 403);
    } finally {
      await p.close();
    }
  });

  it('a denied request with a body (Expect: 100-continue, chunked) gets its 403 before sending it; nothing reaches the app', async () => {
    const p = await pair(ca, appPort, { mtlsMode: 'PERMISSIVE', policies: [permission('ns-b', 'reads', 'Allow', [], [{ methods: ['GET'] }])] });
    try {
      seen.length = 0;
      // No body sent: the client waits for 100 Continue, which never comes; the 403 does.
      const expect = await raw(p.b.inbound, 'POST', '/orders', 'Content-Length: 5\r\nExpect: 100-continue\r\n');
      assert.equal(expect.status, 403);
      assert.doesNotMatch(expect.head, /100 Continue/);
      assert.match(expect.head, /connection: close/i);
      const chunked = await rawExchange(p.b.inbound, 'POST /orders HTTP/1.1\r\nHost: o\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n');
      assert.match(chunked, /^HTTP\/1\.1 403 /);
      assert.deepEqual(seen, []);
      assert.equal((await raw(p.b.inbound, 'GET', '/orders')).status, 200);
    } finally {
      await p.close();
    }
  });

  it('plaintext from the pod\'s own IP (in-pod traffic, gRPC probes) is not judged, even with a default Deny', async () => {
    const p = await pair(ca, appPort, { defaultAction: 'Deny' });
    try {
      const fromPod = await new Promise<string>((resolve, reject) => {
        const s = net.connect({ port: p.b.inbound, host: '127.0.0.1', localAddress: '127.0.0.9' });
        let data = '';
        s.on('connect', () => s.write('GET /x HTTP/1.1\r\nHost: self\r\nConnection: close\r\n\r\n'));
        s.on('data', (d: Buffer) => { data += d.toString(); });
        s.on('close', () => resolve(data));
        s.on('error', reject);
      });
      assert.match(fromPod, /^HTTP\/1\.1 200 /);
      assert.equal((await raw(p.a.outbound, 'GET', '/x')).status, 403);
    } finally {
      await p.close();
    }
  });

  it('revoking closes an open TCP connection and an open WebSocket; what stays allowed stays open', async () => {
    const tcpAllow = permission('ns-b', 'echo', 'Allow', [{ serviceAccounts: ['ns-a/client'] }], [{ ports: [echoPort] }]);
    const p = await pair(ca, echoPort, { policies: [tcpAllow] }, { protocol: 'tcp' });
    const w = await pair(ca, appPort, { policies: [permission('ns-b', 'ws', 'Allow', [], [{ paths: ['/ws'] }])] });
    try {
      const client = net.connect({ port: p.a.outbound, host: '127.0.0.1' });
      client.on('error', () => undefined);
      let echoed = '';
      client.on('data', (d: Buffer) => { echoed += d.toString(); });
      let closed = false;
      client.on('close', () => { closed = true; });
      client.write('one');
      await waitFor(() => echoed === 'one', 'the first echo');
      // A snapshot that still allows it: the connection stays.
      p.discB.set({ trustAnchorsPem: [ca.certPem], policies: [tcpAllow, permission('ns-b', 'other', 'Deny', [{ serviceAccounts: ['ns-a/bills'] }])] });
      client.write('two');
      await waitFor(() => echoed === 'onetwo', 'the second echo after an unrelated change');
      assert.equal(closed, false);
      p.discB.set({ trustAnchorsPem: [ca.certPem], policies: [permission('ns-b', 'echo', 'Allow', [{ serviceAccounts: ['ns-a/bills'] }], [{ ports: [echoPort] }])] });
      await waitFor(() => closed, 'the revoked TCP connection closed');
      assert.equal((await p.b.stats())['skein_authz_decisions_total{direction="inbound",policy="ns-b/echo",outcome="revoked"}'], 1);
      assert.ok(p.b.logs.some((l) => l.msg === 'open connection closed: a new policy no longer allows it' && l.source === A));
      assert.equal(p.b.logs.find((l) => l.msg === 'connection closed')?.outcome, 'revoked');

      const ws = new WebSocket(`ws://127.0.0.1:${w.a.outbound}/ws`);
      await new Promise<void>((resolve, reject) => { ws.once('open', () => resolve()); ws.once('error', reject); });
      const reply = new Promise<string>((resolve) => ws.once('message', (m) => resolve(m.toString())));
      ws.send('hi');
      assert.equal(await reply, 'echo:hi');
      let wsClosed = false;
      ws.on('close', () => { wsClosed = true; });
      w.discB.set({ trustAnchorsPem: [ca.certPem], policies: [permission('ns-b', 'ws', 'Allow', [], [{ paths: ['/other'] }])] });
      await waitFor(() => wsClosed, 'the revoked WebSocket closed');
      assert.equal((await w.b.stats())['skein_authz_decisions_total{direction="inbound",policy="ns-b/ws",outcome="revoked"}'], 1);
      // A new WebSocket on the path is refused with 403 before the app sees it.
      seen.length = 0;
      const refused = new WebSocket(`ws://127.0.0.1:${w.a.outbound}/ws`);
      const status = await new Promise<number>((resolve) => refused.once('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0)));
      assert.equal(status, 403);
      assert.deepEqual(seen, []);
    } finally {
      await p.close();
      await w.close();
    }
  });
});

describe('authorization without a snapshot, and /config_dump', () => {
  it('a sidecar that never received a snapshot refuses (fail closed)', () => {
    const metrics = createMetrics();
    const log = createLogControl('silent').root;
    const authz = new InboundAuthz(new PolicyDiscovery(undefined), metrics, log);
    const conn = authz.connection(A, 8080, log);
    assert.deepEqual(conn.decideConnection(), { allowed: false, policy: 'no-snapshot', reason: 'no_snapshot' });
    const r = conn.request('GET', '/');
    assert.equal(r.kind, 'deny');
    assert.equal(r.kind === 'deny' && r.decision.policy, 'no-snapshot');
    assert.equal(r.kind === 'deny' && r.decision.allowed, false);
    assert.deepEqual((policyDump(undefined) as { rules: unknown[] }).rules, []);
    authz.stop();
  });

  it('/config_dump shows the compiled rules in decision order, with what failed closed', () => {
    const disc = new PolicyDiscovery({
      trustAnchorsPem: [], defaultAction: 'Deny', policies: [
        permission('ns-b', 'z-allow', 'Allow', [{ serviceAccounts: ['ns-a/*'] }], [{ ports: [8080], methods: ['get'], paths: ['/orders/*'] }]),
        permission('ns-b', 'a-bad', 'Deny', [], [{ paths: ['/a*b'] }]),
      ],
    });
    const dump = policyDump(disc.current()) as { defaultAction: string; fallback: string; rules: Array<Record<string, unknown>> };
    assert.equal(dump.defaultAction, 'Deny');
    assert.match(dump.fallback, /^Deny: Allows select this pod/);
    assert.deepEqual(dump.rules.map((r) => r.policy), ['ns-b/a-bad', 'ns-b/z-allow']);
    assert.deepEqual(dump.rules[1], {
      policy: 'ns-b/z-allow', action: 'Allow', selector: {}, from: [{ serviceAccounts: ['ns-a/*'] }],
      to: [{ ports: [8080], methods: ['GET'], paths: ['/orders/*'], opaque: 'never matches opaque TCP' }],
    });
    assert.match(String((dump.rules[0]?.problems as string[])[0]), /not a valid pattern/);
  });
});
