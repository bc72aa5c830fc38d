// mTLS between sidecars: the rest of the dataplane imports only this module. TLS 1.3 only, ALPN
// skein/h1 (HTTP/1.1 inside) or skein/tcp (opaque bytes inside), no SNI. Both sides verify the peer's
// chain against the mesh trust anchors with OpenSSL (which also checks validity and the extended key
// usage: ssl_server for the peer of a client, ssl_client for the peer of a server) and then its SPIFFE
// ID with spiffe.ts; the client also requires the exact identity discovery gave for the endpoint.
// Contexts are built per certificate / trust-bundle change (contexts.ts). The client keeps the last TLS
// session per endpoint and identity, so a second connection resumes (one round trip and no certificate
// signature less); the cache is dropped when our certificate or the trust anchors change.
import type net from 'node:net';
import tls from 'node:tls';
import type { Logger } from 'pino';
import type { IdentityProvider } from '../identity/index.js';
import type { DiscoveryProvider } from '../discovery/index.js';
import { SkeinError, UpstreamConnectTimeoutError } from '../errors.js';
import { counterChild, type CounterChild, type Direction, type Metrics } from '../metrics/index.js';
import { ALPN_H1, ALPN_TCP, type SkeinAlpn } from './client-hello.js';
import { Contexts } from './contexts.js';
import { peerSpiffeId } from './spiffe.js';

export { ALPN_H1, ALPN_TCP, clientHelloAlpn, skeinAlpn, firstRecordLength, MAX_HELLO_RECORD, type SkeinAlpn } from './client-hello.js';
export { parseSpiffeId, peerSpiffeId } from './spiffe.js';

export interface Mtls {
  /** Client side: mTLS to a peer sidecar whose certificate must carry `expect`; resolves once verified. */
  connect(target: { host: string; port: number; localAddress?: string }, expect: string, alpn: SkeinAlpn, timeoutMs: number): Promise<tls.TLSSocket>;
  /**
   * Server side: `socket` was accepted and its first bytes (`head`, a ClientHello offering a skein ALPN)
   * were read; they must still be in the socket's read buffer (detect/ puts them back), or are put back
   * here when the buffer is empty. Resolves with the TLS socket and the verified peer identity.
   */
  accept(socket: net.Socket, head: Buffer): Promise<{ tls: tls.TLSSocket; peer: string; alpn: SkeinAlpn }>;
  /** The present SPIFFE ID of this sidecar ('' before the first certificate). */
  identity(): string;
  stop(): void;
}

/** Bounded reasons of a refused or failed handshake (metric label and log field). */
export type HandshakeFailure =
  | 'no_identity' | 'unknown_ca' | 'expired' | 'not_yet_valid' | 'wrong_purpose' | 'no_client_certificate'
  | 'no_uri_san' | 'two_uri_sans' | 'bad_spiffe_id' | 'wrong_trust_domain' | 'wrong_identity' | 'alpn'
  | 'protocol' | 'timeout' | 'closed' | 'other';

/** A handshake that failed or a peer that was refused; `reason` is bounded, the message says what to check. */
export class MtlsError extends SkeinError {
  constructor(readonly reason: HandshakeFailure, message: string, options?: { cause?: unknown }) {
    super('upstream_tls_failed', message, options);
  }
}

export interface MtlsDeps {
  identity: IdentityProvider;
  discovery: DiscoveryProvider;
  log: Logger;
  metrics: Metrics;
  /** Server side: a client that has not completed its handshake by then is dropped (default 10 s). */
  handshakeTimeoutMs?: number;
  /** Endpoints whose last session the client keeps (default 1024). */
  maxSessions?: number;
}

interface Pending { resolve: (r: { tls: tls.TLSSocket; peer: string; alpn: SkeinAlpn }) => void; reject: (err: Error) => void }

const noHostnameCheck = (): undefined => undefined;
/** The ALPN extension's wire form (length-prefixed names), built once instead of per connection. */
const wire = (name: string): Buffer => Buffer.concat([Buffer.from([name.length]), Buffer.from(name, 'latin1')]);
const ALPN_LISTS: Record<SkeinAlpn, Buffer> = { [ALPN_H1]: wire(ALPN_H1), [ALPN_TCP]: wire(ALPN_TCP) };

export function createMtls(deps: MtlsDeps): Mtls {
  const log = deps.log.child({ component: 'mtls' });
  const maxSessions = deps.maxSessions ?? 1024;
  const sessions = new Map<string, Buffer>();
  const pending = new WeakMap<net.Socket, Pending>();
  const failures = new Map<string, CounterChild>();
  const handshakes = new Map<string, CounterChild>();
  const count = (map: Map<string, CounterChild>, make: () => CounterChild, key: string): void => {
    let child = map.get(key);
    if (!child) map.set(key, child = make());
    child.inc();
  };
  const fail = (direction: Direction, reason: HandshakeFailure, peer: string, detail: string, cause?: unknown): MtlsError => {
    count(failures, () => counterChild(deps.metrics.tlsHandshakeFailures, { direction, reason }), `${direction}/${reason}`);
    log.warn({ direction, reason, peer, detail }, 'mTLS handshake refused');
    return new MtlsError(reason, `mTLS with ${peer} failed (${reason}): ${detail}`, { cause });
  };
  const succeeded = (direction: Direction, alpn: string, resumed: boolean): void => {
    const r = resumed ? 'true' : 'false';
    count(handshakes, () => counterChild(deps.metrics.tlsHandshakes, { direction, alpn, resumed: r }), `${direction}/${alpn}/${r}`);
  };

  const contexts = new Contexts(deps.identity, deps.discovery, deps.handshakeTimeoutMs ?? 10_000, (server) => {
    server.on('secureConnection', (socket: tls.TLSSocket) => {
      const raw = (socket as unknown as { _parent?: net.Socket })._parent;
      const p = raw && pending.get(raw);
      if (!p || !raw) return void socket.destroy();
      pending.delete(raw);
      const peerAddress = `${socket.remoteAddress ?? '?'}:${socket.remotePort ?? 0}`;
      const alpn = socket.alpnProtocol;
      if (alpn !== ALPN_H1 && alpn !== ALPN_TCP) {
        socket.destroy();
        return p.reject(fail('inbound', 'alpn', peerAddress, `no skein ALPN was agreed (${String(alpn)})`));
      }
      const material = contexts.current();
      const check = peerSpiffeId(socket.getPeerX509Certificate()?.subjectAltName, material?.trustDomain ?? '');
      if (!check.ok) {
        socket.destroy();
        return p.reject(fail('inbound', check.problem, peerAddress, check.detail));
      }
      succeeded('inbound', alpn, socket.isSessionReused());
      p.resolve({ tls: socket, peer: check.id, alpn });
    });
    server.on('tlsClientError', (err: Error & { code?: string }, socket: tls.TLSSocket) => {
      const raw = (socket as unknown as { _parent?: net.Socket })._parent;
      const p = raw && pending.get(raw);
      socket.destroy();
      if (!p || !raw) return;
      pending.delete(raw);
      // A chain that did not verify: Node closes without an error of its own and keeps the reason here.
      const code = socket.authorizationError ? String(socket.authorizationError) : err.code ?? err.message;
      p.reject(fail('inbound', reasonFor(code), `${raw.remoteAddress ?? '?'}:${raw.remotePort ?? 0}`, code, err));
    });
  }, () => sessions.clear());

  let lastGeneration = 0;
  return {
    identity: () => contexts.current()?.spiffeId ?? '',
    stop: () => contexts.stop(),

    connect(target, expect, alpn, timeoutMs) {
      const name = `${target.host}:${target.port}`;
      const material = contexts.current();
      if (!material) return Promise.reject(fail('outbound', 'no_identity', name, 'this sidecar has no certificate yet'));
      // Our own certificate changed: sessions made with the old one would present it again.
      if (material.generation !== lastGeneration) {
        sessions.clear();
        lastGeneration = material.generation;
      }
      const key = `${name}/${expect}`;
      const session = sessions.get(key);
      return new Promise((resolve, reject) => {
        const socket = tls.connect({
          host: target.host, port: target.port, ...(target.localAddress ? { localAddress: target.localAddress } : {}),
          secureContext: material.client, ALPNProtocols: ALPN_LISTS[alpn], checkServerIdentity: noHostnameCheck,
          ...(session ? { session } : {}),
          // Half-close travels over TLS as close_notify (N1); @types/node lacks the option tls.connect passes on.
          ...({ allowHalfOpen: true } as object),
        });
        socket.setNoDelay(true);
        let settled = false;
        let verified = false;
        const timer = setTimeout(() => socket.destroy(new UpstreamConnectTimeoutError(name, timeoutMs)), timeoutMs);
        // TLS 1.3 tickets arrive after the handshake; one is kept only from a verified peer.
        socket.on('session', (s: Buffer) => {
          if (!verified || material.generation !== lastGeneration) return;
          sessions.delete(key);
          if (sessions.size >= maxSessions) sessions.delete(sessions.keys().next().value as string);
          sessions.set(key, s);
        });
        const onError = (err: Error & { code?: string }): void => {
          if (settled) return;
          settled = true;
          clearTimeout(timer);
          const code = err.code ?? '';
          // Refused, unreachable, timed out before TLS: the plain error (the HTTP path maps it to 502/504).
          if (!isTlsError(code)) return reject(err);
          if (session) sessions.delete(key);
          reject(fail('outbound', reasonFor(code), name, err.message, err));
        };
        socket.once('error', onError);
        socket.once('secureConnect', () => {
          if (settled) return;
          settled = true;
          clearTimeout(timer);
          socket.off('error', onError);
          const refuse = (reason: HandshakeFailure, detail: string): void => {
            sessions.delete(key);
            socket.on('error', () => undefined);
            socket.destroy();
            reject(fail('outbound', reason, name, detail));
          };
          if (socket.alpnProtocol !== alpn) return refuse('alpn', `the peer did not agree to ${alpn}`);
          const resumed = socket.isSessionReused();
          // A resumed session carries no peer certificate on the client side; it was cached only after
          // this endpoint proved `expect` under the same trust anchors and our same certificate (the
          // cache is keyed by endpoint and identity, and emptied when either changes).
          if (!resumed) {
            const check = peerSpiffeId(socket.getPeerX509Certificate()?.subjectAltName, material.trustDomain);
            if (!check.ok) return refuse(check.problem, check.detail);
            if (check.id !== expect) return refuse('wrong_identity', `the peer is ${check.id}, discovery expected ${expect}`);
          }
          verified = true;
          succeeded('outbound', alpn, resumed);
          resolve(socket);
        });
      });
    },

    accept(socket, head) {
      const peer = `${socket.remoteAddress ?? '?'}:${socket.remotePort ?? 0}`;
      const material = contexts.current();
      if (!material) {
        socket.destroy();
        return Promise.reject(fail('inbound', 'no_identity', peer, 'this sidecar has no certificate yet'));
      }
      if (head.length > 0 && socket.readableLength === 0) socket.unshift(head);
      return new Promise((resolve, reject) => {
        pending.set(socket, { resolve, reject });
        material.server.emit('connection', socket);
      });
    },
  };
}

/** Whether an error code is from TLS (OpenSSL, Node's TLS layer, certificate verification) rather than the network. */
function isTlsError(code: string): boolean {
  return code.startsWith('ERR_SSL_') || code.startsWith('ERR_TLS_') || CERT_REASONS.has(code);
}

const CERT_REASONS = new Map<string, HandshakeFailure>([
  ['CERT_HAS_EXPIRED', 'expired'], ['CERT_NOT_YET_VALID', 'not_yet_valid'], ['INVALID_PURPOSE', 'wrong_purpose'],
  ['UNABLE_TO_VERIFY_LEAF_SIGNATURE', 'unknown_ca'], ['UNABLE_TO_GET_ISSUER_CERT', 'unknown_ca'],
  ['UNABLE_TO_GET_ISSUER_CERT_LOCALLY', 'unknown_ca'], ['SELF_SIGNED_CERT_IN_CHAIN', 'unknown_ca'],
  ['DEPTH_ZERO_SELF_SIGNED_CERT', 'unknown_ca'], ['CERT_SIGNATURE_FAILURE', 'unknown_ca'], ['CERT_UNTRUSTED', 'unknown_ca'],
  ['CERT_REJECTED', 'unknown_ca'], ['CERT_CHAIN_TOO_LONG', 'unknown_ca'], ['PATH_LENGTH_EXCEEDED', 'unknown_ca'],
]);

/** The bounded reason for an OpenSSL / Node TLS error code or a verification error. */
export function reasonFor(code: string): HandshakeFailure {
  const cert = CERT_REASONS.get(code);
  if (cert) return cert;
  if (code.includes('ALERT_UNKNOWN_CA') || code.includes('ALERT_BAD_CERTIFICATE') || code.includes('ALERT_DECRYPT_ERROR')) return 'unknown_ca';
  if (code.includes('ALERT_CERTIFICATE_EXPIRED')) return 'expired';
  if (code.includes('PEER_DID_NOT_RETURN_A_CERTIFICATE') || code.includes('ALERT_CERTIFICATE_REQUIRED')) return 'no_client_certificate';
  if (code.includes('NO_APPLICATION_PROTOCOL')) return 'alpn';
  if (code === 'ERR_TLS_HANDSHAKE_TIMEOUT') return 'timeout';
  if (code === 'ECONNRESET' || code.includes('socket hang up')) return 'closed';
  if (code.startsWith('ERR_SSL_')) return 'protocol';
  return 'other';
}
