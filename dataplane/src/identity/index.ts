// The sidecar's mesh identity: an ECDSA P-256 key made in memory at start (never written, never logged),
// a certificate for it from skein-cp's Identity.Certify, renewed before it expires (renew.ts). This file
// holds the types the rest of the dataplane builds on (mtls/ reads the provider); it imports nothing at
// run time, so a standalone sidecar (no SKEIN_CP_ADDRESS) loads none of the gRPC code.
import type { KeyObject } from 'node:crypto';

export interface WorkloadCertificate {
  /** spiffe://<trust-domain>/ns/<ns>/sa/<sa>, as skein-cp wrote it into the leaf. */
  spiffeId: string;
  /** Leaf then intermediates, PEM. */
  certChainPem: string;
  /** The private key, in memory only; never logged or written. */
  key: KeyObject;
  /**
   * The roots skein-cp returned with this certificate. The live set (it changes during a root rotation)
   * is the discovery snapshot's: MeshView.trustAnchorsPem.
   */
  trustAnchorsPem: string[];
  notBefore: Date;
  notAfter: Date;
  /** Hex, upper case, as node:crypto's X509Certificate prints it. */
  serial: string;
}

export interface IdentityProvider {
  /**
   * The newest certificate; kept after a failed renewal until a new one arrives (fail static), even past
   * its notAfter (peers then refuse it: a connection fails rather than falling back to plaintext).
   */
  current(): WorkloadCertificate | undefined;
  /** Called with each new certificate (the first one and every renewal); returns an unsubscribe function. */
  onChange(listener: (cert: WorkloadCertificate) => void): () => void;
  stop(): void;
}
