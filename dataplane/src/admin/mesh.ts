// What the admin port shows of the mesh client: GET /certs (the workload certificate and the trust
// anchors) and the `mesh` part of /config_dump (the discovery view). Metadata only: serials, validity,
// subjects and fingerprints — never a key (the KeyObject is not even read here) and never a token.
import { X509Certificate } from 'node:crypto';
import type { DiscoveryProvider, MeshView } from '../discovery/index.js';
import type { IdentityProvider, WorkloadCertificate } from '../identity/index.js';
import { splitPem } from '../identity/pem.js';

/** The mesh client's providers, when the sidecar runs with SKEIN_CP_ADDRESS. */
export interface MeshProviders { identity: IdentityProvider; discovery: DiscoveryProvider }

export interface CertificateSummary {
  spiffeId: string;
  serial: string;
  notBefore: string;
  notAfter: string;
  remainingSeconds: number;
  expired: boolean;
  issuer: string;
  fingerprint256: string;
  chainLength: number;
}

export interface AnchorSummary { subject: string; fingerprint256: string; notAfter: string }

export function certificateSummary(cert: WorkloadCertificate, now = Date.now()): CertificateSummary {
  const blocks = splitPem(cert.certChainPem);
  const leaf = new X509Certificate(blocks[0] ?? '');
  const remaining = Math.floor((cert.notAfter.getTime() - now) / 1000);
  return {
    spiffeId: cert.spiffeId, serial: cert.serial,
    notBefore: cert.notBefore.toISOString(), notAfter: cert.notAfter.toISOString(),
    remainingSeconds: Math.max(0, remaining), expired: remaining <= 0,
    issuer: leaf.issuer.replace(/\n/g, ', '), fingerprint256: leaf.fingerprint256, chainLength: blocks.length,
  };
}

export function anchorSummaries(pems: readonly string[]): AnchorSummary[] {
  return pems.flatMap(splitPem).map((pem) => {
    try {
      const cert = new X509Certificate(pem);
      return { subject: cert.subject.replace(/\n/g, ', '), fingerprint256: cert.fingerprint256, notAfter: new Date(cert.validTo).toISOString() };
    } catch {
      return { subject: '(unparseable)', fingerprint256: '', notAfter: '' };
    }
  });
}

/** GET /certs. The trust anchors are the live set of the discovery snapshot, else those of the certificate. */
export function certsReport(mesh: MeshProviders | undefined): unknown {
  if (!mesh) return { mode: 'standalone', identity: null, certificate: null, trustAnchors: [] };
  const cert = mesh.identity.current();
  const anchors = mesh.discovery.current()?.trustAnchorsPem ?? cert?.trustAnchorsPem ?? [];
  return {
    mode: 'mesh',
    identity: cert?.spiffeId ?? null,
    certificate: cert ? certificateSummary(cert) : null,
    trustAnchors: anchorSummaries(anchors),
  };
}

const PROTOCOLS = ['detect', 'http', 'http2', 'tcp'];
const protocolName = (p: number): string => PROTOCOLS[p] ?? 'detect';

/** The discovery part of /config_dump: what the sidecar routes by. */
export function meshDump(mesh: MeshProviders | undefined): unknown {
  if (!mesh) return { mode: 'standalone' };
  const view: MeshView | undefined = mesh.discovery.current();
  const cert = mesh.identity.current();
  const s = view?.snapshot;
  return {
    mode: 'mesh',
    version: view?.version ?? null,
    mtlsMode: view?.mtlsMode ?? null,
    trustDomain: view?.trustDomain ?? null,
    certificate: cert ? certificateSummary(cert) : null,
    self: s?.self ? {
      pod: `${s.self.namespace}/${s.self.podName}`, spiffeId: s.self.spiffeId, ips: s.self.ips,
      inboundPorts: s.self.inboundPorts.map((p) => ({ name: p.name, port: p.port, protocol: protocolName(p.protocol) })),
      opaquePorts: s.self.opaquePorts,
    } : null,
    services: (s?.services ?? []).map((svc) => ({
      name: `${svc.namespace}/${svc.name}`, clusterIps: svc.clusterIps,
      ports: svc.ports.map((p) => ({ name: p.name, port: p.port, targetPort: p.targetPort, protocol: protocolName(p.protocol) })),
      endpoints: svc.endpoints.map((e) => ({
        ip: e.ip, ports: e.ports, ready: e.ready, spiffeId: e.spiffeId, pod: `${e.podNamespace}/${e.podName}`,
      })),
    })),
    workloads: (s?.workloads ?? []).map((w) => ({
      pod: `${w.namespace}/${w.podName}`, ips: w.ips.length > 0 ? w.ips : [w.ip], spiffeId: w.spiffeId, opaquePorts: w.opaquePorts,
    })),
    trustAnchors: anchorSummaries(view?.trustAnchorsPem ?? []),
  };
}
