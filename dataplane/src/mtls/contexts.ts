// The TLS material of the sidecar, built once per certificate or trust-bundle change and never per
// connection: the client SecureContext (our chain + key, the trust anchors, TLS 1.3 only) and the
// server side, a tls.Server that never listens (accepted sockets are handed to it with
// emit('connection'), as the HTTP path does with node:http) so Node's own requestCert/rejectUnauthorized,
// ALPN and session-ticket handling apply. A trust-bundle change also rotates the server's ticket keys
// and tells the client side to forget its sessions: no session is resumed across it.
import { randomBytes } from 'node:crypto';
import tls from 'node:tls';
import type { WorkloadCertificate, IdentityProvider } from '../identity/index.js';
import type { DiscoveryProvider } from '../discovery/index.js';
import { ALPN_H1, ALPN_TCP } from './client-hello.js';

export interface Material {
  /** Bumps on every rebuild (new certificate or new trust anchors). */
  generation: number;
  /** Bumps only when the trust anchors changed. */
  trustGeneration: number;
  spiffeId: string;
  trustDomain: string;
  client: tls.SecureContext;
  server: tls.Server;
}

const TLS13 = { minVersion: 'TLSv1.3', maxVersion: 'TLSv1.3' } as const;

export class Contexts {
  private material: Material | undefined;
  private cert: WorkloadCertificate | undefined;
  private anchorsRef: readonly string[] | undefined;
  private anchorsKey = '';
  private trustDomainSeen = '';
  private host: tls.Server | undefined;
  private readonly unsubscribe: Array<() => void>;

  constructor(
    private readonly identity: IdentityProvider, private readonly discovery: DiscoveryProvider,
    private readonly handshakeTimeoutMs: number, private readonly onHost: (server: tls.Server) => void,
    private readonly onTrustChange: () => void,
  ) {
    this.unsubscribe = [identity.onChange(() => this.current()), discovery.onChange(() => this.current())];
  }

  /** The material for the providers' present state (rebuilt first if they changed); undefined without a certificate. */
  current(): Material | undefined {
    const cert = this.identity.current();
    if (!cert) return undefined;
    const view = this.discovery.current();
    const anchors = view && view.trustAnchorsPem.length > 0 ? view.trustAnchorsPem : cert.trustAnchorsPem;
    const trustDomain = view?.trustDomain || trustDomainOf(cert.spiffeId);
    if (this.material && cert === this.cert && anchors === this.anchorsRef && trustDomain === this.trustDomainSeen) return this.material;
    const anchorsKey = anchors.join('\n');
    const certChanged = cert !== this.cert;
    const trustChanged = anchorsKey !== this.anchorsKey || trustDomain !== this.trustDomainSeen;
    this.anchorsRef = anchors;
    this.trustDomainSeen = trustDomain;
    if (!certChanged && !trustChanged && this.material) return this.material;
    this.cert = cert;
    this.anchorsKey = anchorsKey;
    const options: tls.SecureContextOptions = {
      cert: cert.certChainPem, key: cert.key.export({ type: 'pkcs8', format: 'pem' }), ca: [...anchors], ...TLS13,
    };
    const client = tls.createSecureContext(options);
    let server = this.host;
    if (!server) {
      server = new tls.Server({
        ...options, requestCert: true, rejectUnauthorized: true, ALPNProtocols: [ALPN_H1, ALPN_TCP],
        handshakeTimeout: this.handshakeTimeoutMs,
      });
      this.host = server;
      this.onHost(server);
    } else {
      // A new SSL_CTX, with new random ticket keys of its own.
      server.setSecureContext(options);
    }
    const previous = this.material;
    const trustGeneration = (previous?.trustGeneration ?? 0) + (trustChanged ? 1 : 0);
    if (previous && trustChanged) {
      server.setTicketKeys(randomBytes(48));
      this.onTrustChange();
    }
    this.material = {
      generation: (previous?.generation ?? 0) + 1, trustGeneration, spiffeId: cert.spiffeId, trustDomain, client, server,
    };
    return this.material;
  }

  stop(): void {
    for (const u of this.unsubscribe) u();
  }
}

function trustDomainOf(spiffeId: string): string {
  const rest = spiffeId.startsWith('spiffe://') ? spiffeId.slice(9) : '';
  return rest.slice(0, Math.max(0, rest.indexOf('/')));
}
