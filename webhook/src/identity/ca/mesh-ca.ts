// The MeshCa that both modes hand out: signs with whatever material is current, and tells listeners when
// the trust anchors change. The modes (local.ts, kube.ts) only load material and call `replace`.
import type { Logger } from '../../log.js';
import { CertifyRefusal } from '../errors.js';
import type { WorkloadIdentity } from '../types.js';
import { verifyCsr } from './csr.js';
import { issueLeaf, type IssuedCertificate } from './leaf.js';
import type { CaMaterial } from './material.js';

export interface MeshCa {
  /** PEM roots peers trust (old + new during a rotation). */
  trustAnchorsPem(): string[];
  /** Verifies the CSR's signature with node:crypto, ignores its subject/SANs, signs a leaf for `identity`. */
  sign(req: { csrPem: string; identity: WorkloadIdentity; ttlSeconds: number }): Promise<IssuedCertificate>;
  /** Called after the trust anchors change (rotation); returns an unsubscribe function. */
  onTrustAnchorsChange(listener: (pems: string[]) => void): () => void;
  stop(): Promise<void>;
}

/** Shortest and longest TTL a caller may ask for (the Mesh resource's certTTL is validated elsewhere too). */
export const MIN_TTL_SECONDS = 60;
export const MAX_TTL_SECONDS = 366 * 24 * 3600;
/** A CA closer than this to its notAfter is logged at warn when loaded. */
export const EXPIRY_WARNING_DAYS = 90;

// Trust domain (SPIFFE: lower-case letters, digits, '.', '-', '_'), a DNS-1123 label namespace and a
// DNS-1123 subdomain service account: no '%', no '..', no upper case, no NUL can reach a certificate.
const SPIFFE_ID = /^spiffe:\/\/[a-z0-9._-]+\/ns\/[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?\/sa\/[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

/**
 * Defence in depth: the identity comes from a verified token (certify), but the CA still refuses to
 * write a SPIFFE ID that is malformed or does not name the identity's own namespace and service account.
 */
function checkSpiffeId(id: WorkloadIdentity): void {
  const suffix = `/ns/${id.namespace}/sa/${id.serviceAccount}`;
  if (!SPIFFE_ID.test(id.spiffeId) || !id.spiffeId.endsWith(suffix) || id.spiffeId.length > 2048) {
    throw new Error(`refusing to sign a malformed SPIFFE ID ${JSON.stringify(id.spiffeId.slice(0, 300))} for ${id.namespace}/${id.serviceAccount}`);
  }
}

export class SwappableCa implements MeshCa {
  private material: CaMaterial | undefined;
  private readonly listeners = new Set<(pems: string[]) => void>();

  constructor(private readonly log: Logger, private readonly onStop: () => Promise<void> = async () => {}) {}

  current(): CaMaterial | undefined {
    return this.material;
  }

  /** Installs new material; returns whether the anchors changed (listeners are then called). */
  replace(next: CaMaterial): boolean {
    const prev = this.material;
    this.material = next;
    const changed = prev === undefined || prev.anchorsPem.join('') !== next.anchorsPem.join('');
    if (prev?.fingerprint !== next.fingerprint) {
      this.log.info({ signer: next.signer.subject.replace(/\n/g, ', '), fingerprint: next.fingerprint, notAfter: next.notAfter, anchors: next.anchorsPem.length, intermediates: next.chainPem.length }, 'mesh CA loaded');
      const daysLeft = (next.notAfter.getTime() - Date.now()) / 86_400_000;
      if (daysLeft < EXPIRY_WARNING_DAYS) {
        this.log.warn({ notAfter: next.notAfter, daysLeft: Math.floor(daysLeft) }, 'the mesh CA expires soon: leaves are cut short at its notAfter and none can be issued after it; rotate it (docs/identity.md, "Rotating the root")');
      }
    }
    if (changed && prev !== undefined) {
      this.log.info({ anchors: next.anchorsPem.length }, 'mesh trust anchors changed');
      for (const l of this.listeners) {
        try {
          l([...next.anchorsPem]);
        } catch (err) {
          this.log.error({ err }, 'trust anchor listener failed');
        }
      }
    }
    return changed;
  }

  trustAnchorsPem(): string[] {
    return [...(this.material?.anchorsPem ?? [])];
  }

  async sign(req: { csrPem: string; identity: WorkloadIdentity; ttlSeconds: number }): Promise<IssuedCertificate> {
    checkSpiffeId(req.identity);
    const csr = verifyCsr(req.csrPem);
    const m = this.material;
    const now = new Date();
    if (m === undefined) throw new CertifyRefusal('ca_not_ready', 'the mesh CA is not loaded yet; retry shortly');
    if (m.notAfter <= now) throw new CertifyRefusal('ca_not_ready', `the mesh CA expired at ${m.notAfter.toISOString()}; an operator must rotate it (docs/identity.md, "Rotating the root")`);
    const ttl = Math.min(Math.max(Math.floor(Number.isFinite(req.ttlSeconds) ? req.ttlSeconds : 0), MIN_TTL_SECONDS), MAX_TTL_SECONDS);
    return issueLeaf(m, csr, req.identity, ttl, now);
  }

  onTrustAnchorsChange(listener: (pems: string[]) => void): () => void {
    this.listeners.add(listener);
    return () => { this.listeners.delete(listener); };
  }

  async stop(): Promise<void> {
    this.listeners.clear();
    await this.onStop();
  }
}
