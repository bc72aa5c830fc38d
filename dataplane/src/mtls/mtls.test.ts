// mtls/: real TLS 1.3 over loopback between two Mtls instances (client = connect, server = accept on a
// socket whose ClientHello detect/ already read), with certificates from the test PKI.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import tls from 'node:tls';
import pino from 'pino';
import { detect } from '../detect/index.js';
import { createMetrics, statsSnapshot, type Metrics } from '../metrics/index.js';
import { createMtls, clientHelloAlpn, parseSpiffeId, peerSpiffeId, type Mtls, type MtlsError } from './index.js';
import { createTestCa, issueLeaf, type TestCa } from './testing/pki.js';
import { spiffe, TestDiscovery, TestIdentity, workloadCert } from './testing/mesh.js';

const silent = pino({ level: 'silent' });
const A = spiffe('ns-a', 'client');
const B = spiffe('ns-b', 'server');

interface Side { mtls: Mtls; identity: TestIdentity; discovery: TestDiscovery; metrics: Metrics }

function side(identity: TestIdentity, discovery: TestDiscovery): Side {
  const metrics = createMetrics();
  return { mtls: createMtls({ identity, discovery, log: silent, metrics }), identity, discovery, metrics };
}

type Accepted = { peer: string; alpn: string; tls: tls.TLSSocket } | { error: MtlsError };

/** A server that detects like the inbound listener, then terminates mTLS; echoes with a prefix. */
async function server(s: Side): Promise<{ port: number; accepted: Accepted[]; heads: Buffer[]; close(): Promise<void> }> {
  const accepted: Accepted[] = [];
  const heads: Buffer[] = [];
  const sockets = new Set<net.Socket>();
  const srv = net.createServer({ allowHalfOpen: true }, (socket) => {
    sockets.add(socket);
    socket.on('error', () => undefined);
    void (async () => {
      const detected = await detect(socket, { timeoutMs: 5000, opaque: false, wholeHello: true });
      heads.push(detected.head);
      try {
        const r = await s.mtls.accept(socket, detected.head);
        accepted.push(r);
        r.tls.on('error', () => undefined);
        r.tls.on('data', (d: Buffer) => r.tls.write(`echo:${d.toString()}`));
        r.tls.on('end', () => r.tls.end());
      } catch (err) {
        accepted.push({ error: err as MtlsError });
      }
    })();
  });
  await new Promise<void>((resolve) => srv.listen(0, '127.0.0.1', resolve));
  return {
    port: (srv.address() as net.AddressInfo).port, accepted, heads,
    close: () => new Promise((resolve) => { for (const s of sockets) s.destroy(); srv.close(() => resolve()); }),
  };
}

async function roundTrip(socket: tls.TLSSocket, text: string): Promise<string> {
  socket.write(text);
  const [data] = await new Promise<[Buffer]>((resolve, reject) => {
    socket.once('data', (d: Buffer) => resolve([d]));
    socket.once('error', reject);
    socket.once('end', () => reject(new Error('ended before an answer')));
    socket.once('close', () => reject(new Error('closed before an answer')));
  });
  return data.toString();
}

async function lastAccepted(list: Accepted[], n: number): Promise<Accepted> {
  for (let i = 0; i < 500 && list.length < n; i++) await new Promise((r) => setTimeout(r, 10));
  assert.ok(list.length >= n, 'the server side settled');
  return list[n - 1] as Accepted;
}

describe('SPIFFE ID checks', () => {
  it('accepts a workload ID of the trust domain and refuses every malformed shape', () => {
    const ok = parseSpiffeId('spiffe://cluster.local/ns/default/sa/web', 'cluster.local');
    assert.deepEqual(ok, { ok: true, id: 'spiffe://cluster.local/ns/default/sa/web', namespace: 'default', serviceAccount: 'web' });
    const problem = (id: string): string => { const r = parseSpiffeId(id, 'cluster.local'); return r.ok ? 'ok' : r.problem; };
    assert.equal(problem('spiffe://other.local/ns/default/sa/web'), 'wrong_trust_domain');
    for (const bad of [
      'spiffe://cluster.local/ns/default/sa/../sa/web', 'spiffe://cluster.local/ns/%2e%2e/sa/web', 'spiffe://cluster.local/ns//sa/web',
      'spiffe://cluster.local/ns/default/sa/web/', 'spiffe://cluster.local/ns/./sa/web', 'spiffe://cluster.local/ns/default/sa/web/x/y',
      'https://cluster.local/ns/default/sa/web', 'spiffe://cluster.local', 'spiffe:///ns/a/sa/b', 'spiffe://Cluster.local/ns/a/sa/b',
      'spiffe://cluster.local/ns/a b/sa/b', 'spiffe://cluster.local/sa/b/ns/a',
    ]) assert.equal(problem(bad), 'bad_spiffe_id', bad);
  });

  it('reads URI SANs from Node\'s subjectaltname and refuses none, two, or a quoted one', () => {
    const check = (san: string): string => { const r = peerSpiffeId(san, 'cluster.local'); return r.ok ? r.id : r.problem; };
    assert.equal(check('URI:spiffe://cluster.local/ns/a/sa/b'), 'spiffe://cluster.local/ns/a/sa/b');
    assert.equal(check('DNS:a.example, URI:spiffe://cluster.local/ns/a/sa/b'), 'spiffe://cluster.local/ns/a/sa/b');
    assert.equal(check('DNS:a.example'), 'no_uri_san');
    assert.equal(check('URI:spiffe://cluster.local/ns/a/sa/b, URI:spiffe://cluster.local/ns/a/sa/c'), 'two_uri_sans');
    assert.equal(check('URI:"spiffe://cluster.local/ns/a/sa/b, URI:x"'), 'bad_spiffe_id');
  });
});

describe('mTLS between two sidecars (real TLS 1.3 on loopback)', () => {
  let ca: TestCa;
  let otherCa: TestCa;
  let client: Side;
  let srv: Side;
  let s: Awaited<ReturnType<typeof server>>;
  before(async () => {
    ca = await createTestCa();
    otherCa = await createTestCa('another mesh');
    client = side(new TestIdentity(await workloadCert(ca, A)), new TestDiscovery({ trustAnchorsPem: [ca.certPem] }));
    srv = side(new TestIdentity(await workloadCert(ca, B)), new TestDiscovery({ trustAnchorsPem: [ca.certPem] }));
    s = await server(srv);
  });
  after(async () => {
    await s.close();
    client.mtls.stop();
    srv.mtls.stop();
  });

  it('connects with TLS 1.3 and the ALPN asked for, and each side sees the other\'s SPIFFE ID', async () => {
    const n = s.accepted.length;
    const socket = await client.mtls.connect({ host: '127.0.0.1', port: s.port }, B, 'skein/tcp', 5000);
    assert.equal(socket.getProtocol(), 'TLSv1.3');
    assert.equal(socket.alpnProtocol, 'skein/tcp');
    assert.equal(await roundTrip(socket, 'hello'), 'echo:hello');
    const a = await lastAccepted(s.accepted, n + 1);
    assert.ok('peer' in a, JSON.stringify(a));
    assert.equal(a.peer, A);
    assert.equal(a.alpn, 'skein/tcp');
    // The ClientHello was read by detect (the TLSSocket got those bytes from the socket's buffer) and offered our ALPN only.
    assert.deepEqual(clientHelloAlpn(s.heads[s.heads.length - 1] as Buffer), ['skein/tcp']);
    socket.destroy();
  });

  it('a ClientHello that arrives in two TCP segments is read whole before the handshake goes on', async () => {
    // A relay that delays the second half of the client's first write.
    const relay = net.createServer((a) => {
      const b = net.connect(s.port, '127.0.0.1');
      let first = true;
      a.on('data', (d: Buffer) => {
        if (!first) return void b.write(d);
        first = false;
        a.pause();
        b.write(d.subarray(0, 40));
        setTimeout(() => { b.write(d.subarray(40)); a.resume(); }, 50);
      });
      b.on('data', (d: Buffer) => a.write(d));
      for (const x of [a, b]) { x.on('error', () => undefined); x.on('close', () => { a.destroy(); b.destroy(); }); }
    });
    await new Promise<void>((resolve) => relay.listen(0, '127.0.0.1', resolve));
    try {
      const n = s.heads.length;
      const socket = await client.mtls.connect({ host: '127.0.0.1', port: (relay.address() as net.AddressInfo).port }, B, 'skein/h1', 5000);
      assert.equal(await roundTrip(socket, 'split'), 'echo:split');
      assert.deepEqual(clientHelloAlpn(s.heads[n] as Buffer), ['skein/h1']);
      socket.destroy();
    } finally {
      relay.close();
    }
  });

  it('the client refuses a server whose SPIFFE ID is not the one discovery expects', async () => {
    await assert.rejects(client.mtls.connect({ host: '127.0.0.1', port: s.port }, spiffe('ns-b', 'someone-else'), 'skein/tcp', 5000),
      (err: MtlsError) => err.reason === 'wrong_identity');
    const stats = await statsSnapshot(client.metrics);
    assert.ok((stats['skein_tls_handshake_failures_total{direction="outbound",reason="wrong_identity"}'] ?? 0) >= 1);
  });

  it('a server with a certificate from another CA is refused by the client', async () => {
    const rogue = side(new TestIdentity(await workloadCert(otherCa, B)), new TestDiscovery({ trustAnchorsPem: [otherCa.certPem] }));
    const rs = await server(rogue);
    try {
      await assert.rejects(client.mtls.connect({ host: '127.0.0.1', port: rs.port }, B, 'skein/tcp', 5000),
        (err: MtlsError) => err.reason === 'unknown_ca');
    } finally {
      await rs.close();
      rogue.mtls.stop();
    }
  });

  /** A client whose certificate is `cert`: the server must refuse it with `reason`. */
  async function refusedClient(certPromise: ReturnType<typeof workloadCert>, reason: string, anchors = [ca.certPem]): Promise<void> {
    const bad = side(new TestIdentity(await certPromise), new TestDiscovery({ trustAnchorsPem: anchors }));
    const n = s.accepted.length;
    try {
      // TLS 1.3: the client's handshake ends before the server has checked its certificate, so the
      // refusal shows as a connection that closes (or an alert) instead of an answer.
      const socket = await bad.mtls.connect({ host: '127.0.0.1', port: s.port }, B, 'skein/tcp', 5000).catch((err: Error) => err);
      if (socket instanceof tls.TLSSocket) await assert.rejects(roundTrip(socket, 'x'));
      const a = await lastAccepted(s.accepted, n + 1);
      assert.ok('error' in a, `the server accepted ${JSON.stringify((a as { peer?: string }).peer)}`);
      assert.equal(a.error.reason, reason);
    } finally {
      bad.mtls.stop();
    }
  }

  it('the server refuses a client from another CA', () => refusedClient(workloadCert(otherCa, A), 'unknown_ca'));
  it('the server refuses an expired client certificate', () => refusedClient(
    workloadCert(ca, A, { notBefore: new Date(Date.now() - 7200_000), notAfter: new Date(Date.now() - 3600_000) }), 'expired'));
  it('the server refuses a client certificate that is not valid yet', () => refusedClient(
    workloadCert(ca, A, { notBefore: new Date(Date.now() + 3600_000), notAfter: new Date(Date.now() + 7200_000) }), 'not_yet_valid'));
  it('the server refuses a client certificate with only serverAuth (OpenSSL\'s ssl_client purpose)', () => refusedClient(
    workloadCert(ca, A, { eku: ['serverAuth'] }), 'wrong_purpose'));
  it('the server refuses two URI SANs', async () => {
    const leaf = await issueLeaf(ca, { uris: [A, spiffe('ns-a', 'admin')] });
    await refusedClient(Promise.resolve({ ...(await workloadCert(ca, A)), certChainPem: leaf.certPem, key: leaf.key }), 'two_uri_sans');
  });
  it('the server refuses `%` and `..` in the SPIFFE path', async () => {
    await refusedClient(workloadCert(ca, 'spiffe://cluster.local/ns/a%2Fsa/sa/x'), 'bad_spiffe_id');
    await refusedClient(workloadCert(ca, 'spiffe://cluster.local/ns/../sa/x'), 'bad_spiffe_id');
  });
  it('the server refuses another trust domain even under the same CA', () => refusedClient(
    workloadCert(ca, spiffe('ns-a', 'client', 'evil.local')), 'wrong_trust_domain'));

  it('the server refuses a client that offers skein/tcp but presents no certificate', async () => {
    const n = s.accepted.length;
    const bare = tls.connect({ host: '127.0.0.1', port: s.port, ALPNProtocols: ['skein/tcp'], ca: [ca.certPem], checkServerIdentity: () => undefined });
    bare.on('error', () => undefined);
    const a = await lastAccepted(s.accepted, n + 1);
    bare.destroy();
    assert.ok('error' in a);
    assert.equal(a.error.reason, 'no_client_certificate');
  });

  it('a client certificate with only clientAuth cannot serve: the client refuses it as a server', async () => {
    const clientOnly = side(new TestIdentity(await workloadCert(ca, B, { eku: ['clientAuth'] })), new TestDiscovery({ trustAnchorsPem: [ca.certPem] }));
    const cs = await server(clientOnly);
    try {
      await assert.rejects(client.mtls.connect({ host: '127.0.0.1', port: cs.port }, B, 'skein/tcp', 5000),
        (err: MtlsError) => err.reason === 'wrong_purpose');
    } finally {
      await cs.close();
      clientOnly.mtls.stop();
    }
  });

  it('a renewal: new connections present the new certificate, an open one keeps flowing', async () => {
    const before = client.identity.current();
    const n = s.accepted.length;
    const old = await client.mtls.connect({ host: '127.0.0.1', port: s.port }, B, 'skein/tcp', 5000);
    assert.equal(await roundTrip(old, 'old'), 'echo:old');
    const renewed = await workloadCert(ca, A);
    client.identity.set(renewed);
    const fresh = await client.mtls.connect({ host: '127.0.0.1', port: s.port }, B, 'skein/tcp', 5000);
    assert.equal(await roundTrip(fresh, 'new'), 'echo:new');
    const [a1, a2] = [await lastAccepted(s.accepted, n + 1), await lastAccepted(s.accepted, n + 2)];
    assert.ok('tls' in a1 && 'tls' in a2);
    assert.equal(a1.tls.getPeerX509Certificate()?.serialNumber, before?.serial);
    assert.equal(a2.tls.getPeerX509Certificate()?.serialNumber, renewed.serial);
    assert.notEqual(renewed.serial, before?.serial);
    assert.equal(await roundTrip(old, 'still'), 'echo:still');
    old.destroy();
    fresh.destroy();
  });

  it('a second connection resumes the TLS session; after a trust-bundle change none is resumed', async () => {
    const first = await client.mtls.connect({ host: '127.0.0.1', port: s.port }, B, 'skein/tcp', 5000);
    // TLS 1.3 tickets arrive after the handshake: one round trip makes sure the client has one.
    await roundTrip(first, 'one');
    first.destroy();
    const second = await client.mtls.connect({ host: '127.0.0.1', port: s.port }, B, 'skein/tcp', 5000);
    assert.equal(second.isSessionReused(), true);
    await roundTrip(second, 'two');
    second.destroy();
    // The same anchors plus a second root (a rotation starting) is a trust-bundle change on both sides.
    const rotated = [ca.certPem, otherCa.certPem];
    client.discovery.set({ trustAnchorsPem: rotated });
    srv.discovery.set({ trustAnchorsPem: rotated });
    const third = await client.mtls.connect({ host: '127.0.0.1', port: s.port }, B, 'skein/tcp', 5000);
    assert.equal(third.isSessionReused(), false);
    await roundTrip(third, 'three');
    third.destroy();
    const stats = await statsSnapshot(client.metrics);
    assert.ok((stats['skein_tls_handshakes_total{direction="outbound",alpn="skein/tcp",resumed="true"}'] ?? 0) >= 1);
  });

  it('the server side does not resume a ticket issued before its trust bundle changed', async () => {
    // A client whose own anchors do not change keeps its ticket; the server must still do a full handshake.
    const steady = side(new TestIdentity(await workloadCert(ca, A)), new TestDiscovery({ trustAnchorsPem: [ca.certPem] }));
    try {
      const first = await steady.mtls.connect({ host: '127.0.0.1', port: s.port }, B, 'skein/tcp', 5000);
      await roundTrip(first, 'one');
      first.destroy();
      const resumed = await steady.mtls.connect({ host: '127.0.0.1', port: s.port }, B, 'skein/tcp', 5000);
      assert.equal(resumed.isSessionReused(), true, 'resumed before the change');
      await roundTrip(resumed, 'again');
      resumed.destroy();
      srv.discovery.set({ trustAnchorsPem: [otherCa.certPem, ca.certPem] });
      const second = await steady.mtls.connect({ host: '127.0.0.1', port: s.port }, B, 'skein/tcp', 5000);
      assert.equal(second.isSessionReused(), false);
      await roundTrip(second, 'two');
      second.destroy();
    } finally {
      steady.mtls.stop();
    }
  });
});
