// Test helpers (not product code, not in the image): identity and discovery providers a test fills by
// hand with certificates from pki.ts, and a sidecar's two capture listeners with `mesh` set, on free
// loopback ports, built the way lifecycle/run.ts builds them (without the admin and health servers).
import { Writable } from 'node:stream';
import type net from 'node:net';
import type { discovery as api } from '@skein/api';
import { parseRunConfig, type RunConfig } from '../../config/index.js';
import type { DiscoveryProvider, MeshView, OutboundRoute, RouteProtocol } from '../../discovery/index.js';
import { UpstreamPools } from '../../http/pool.js';
import type { IdentityProvider, WorkloadCertificate } from '../../identity/index.js';
import { createInbound } from '../../inbound/index.js';
import { createLogControl } from '../../log/index.js';
import { createMetrics, statsSnapshot, type Metrics } from '../../metrics/index.js';
import { createOutbound } from '../../outbound/index.js';
import type { CaptureListener } from '../../proxy/listener.js';
import { listen, stopListening } from '../../transport/listen.js';
import type { Destination, OrigDstResolver } from '../../transport/resolver.js';
import { createMtls, type Mtls } from '../index.js';
import { issueLeaf, type LeafOptions, type TestCa } from './pki.js';

export const TRUST_DOMAIN = 'cluster.local';
export const spiffe = (ns: string, sa: string, td = TRUST_DOMAIN): string => `spiffe://${td}/ns/${ns}/sa/${sa}`;

/** A certificate as dp-identity's provider hands it out, signed by `ca`. */
export async function workloadCert(ca: TestCa, spiffeId: string, options: Partial<LeafOptions> = {}, anchors = [ca.certPem]): Promise<WorkloadCertificate> {
  const leaf = await issueLeaf(ca, { uris: [spiffeId], ...options });
  return {
    spiffeId, certChainPem: leaf.certPem, key: leaf.key, trustAnchorsPem: anchors,
    notBefore: leaf.notBefore, notAfter: leaf.notAfter, serial: leaf.serial,
  };
}

export class TestIdentity implements IdentityProvider {
  private readonly listeners = new Set<(cert: WorkloadCertificate) => void>();
  constructor(private cert: WorkloadCertificate | undefined) {}
  current(): WorkloadCertificate | undefined { return this.cert; }
  onChange(listener: (cert: WorkloadCertificate) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
  /** A renewal. */
  set(cert: WorkloadCertificate): void {
    this.cert = cert;
    for (const l of this.listeners) l(cert);
  }
  stop(): void { this.listeners.clear(); }
}

export interface ViewSpec {
  mtlsMode?: 'STRICT' | 'PERMISSIVE';
  trustDomain?: string;
  trustAnchorsPem: string[];
  /** Routes by "ip:port" of the original destination; others are passthrough. */
  routes?: Record<string, OutboundRoute>;
  inbound?: Record<number, RouteProtocol>;
}

export class TestDiscovery implements DiscoveryProvider {
  private view: MeshView;
  private readonly listeners = new Set<(view: MeshView) => void>();
  private version = 0;
  constructor(spec: ViewSpec) { this.view = this.build(spec); }
  current(): MeshView | undefined { return this.view; }
  onChange(listener: (view: MeshView) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
  set(spec: ViewSpec): void {
    this.view = this.build(spec);
    for (const l of this.listeners) l(this.view);
  }
  stop(): void { this.listeners.clear(); }
  private build(spec: ViewSpec): MeshView {
    const routes = spec.routes ?? {};
    return {
      version: String(++this.version), snapshot: {} as api.Snapshot, mtlsMode: spec.mtlsMode ?? 'STRICT',
      trustDomain: spec.trustDomain ?? TRUST_DOMAIN, trustAnchorsPem: spec.trustAnchorsPem,
      route: (dst: Destination) => routes[`${dst.address}:${dst.port}`] ?? { kind: 'passthrough', host: dst.address, port: dst.port },
      inboundProtocol: (port: number) => spec.inbound?.[port] ?? 'detect',
    };
  }
}

export interface MeshProxy {
  outbound: number;
  inbound: number;
  metrics: Metrics;
  mtls: Mtls;
  logs: Array<Record<string, unknown>>;
  pools: UpstreamPools;
  config: RunConfig;
  stats(): Promise<Record<string, number>>;
  close(): Promise<void>;
}

/**
 * One sidecar with mTLS: `outboundTo` is where its outbound listener's connections were going (the
 * original destination), `inboundTo` the app behind its inbound listener.
 */
export async function startMeshProxy(opts: {
  identity: IdentityProvider; discovery: DiscoveryProvider; outboundTo?: Destination; inboundTo?: Destination; flags?: string[];
  /** Log lines to stdout (the bench) instead of the `logs` array. */
  stdout?: boolean;
  /** POD_IP (default 127.0.0.1). */
  podIP?: string;
}): Promise<MeshProxy> {
  const config = parseRunConfig(['--outbound-port', '0', '--inbound-port', '0', '--bind-address', '127.0.0.1',
    ...(opts.stdout ? [] : ['--log-level', 'debug']), ...(opts.flags ?? [])], { POD_IP: opts.podIP ?? '127.0.0.1' });
  const logs: Array<Record<string, unknown>> = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const line of chunk.toString('utf8').split('\n')) if (line.trim()) logs.push(JSON.parse(line) as Record<string, unknown>);
      done();
    },
  });
  const log = (opts.stdout ? createLogControl(config.logLevel) : createLogControl(config.logLevel, sink)).component('proxy');
  const metrics = createMetrics();
  const pools = new UpstreamPools({
    maxSocketsPerUpstream: config.maxSocketsPerUpstream, maxPools: config.maxUpstreamPools, connectTimeoutMs: config.connectTimeoutMs,
  });
  const mtls = createMtls({ identity: opts.identity, discovery: opts.discovery, log, metrics });
  const ownPorts = new Set<number>();
  const fixed = (d: Destination | undefined): OrigDstResolver => () => d ?? { address: '127.0.0.1', port: 9, family: 4 };
  const base = { config, metrics, pools, log, ownPorts: () => ownPorts, isDraining: () => false, mesh: { mtls, discovery: opts.discovery } };
  const outbound = createOutbound({ ...base, resolver: fixed(opts.outboundTo) });
  const inbound = createInbound({ ...base, resolver: fixed(opts.inboundTo) });
  const listeners: CaptureListener[] = [outbound, inbound];
  const outboundPort = (await listen(outbound.server, 0, '127.0.0.1')).port;
  const inboundPort = (await listen(inbound.server, 0, '127.0.0.1')).port;
  ownPorts.add(outboundPort).add(inboundPort);
  return {
    outbound: outboundPort, inbound: inboundPort, metrics, mtls, logs, pools, config,
    stats: () => statsSnapshot(metrics),
    close: async () => {
      for (const l of listeners) {
        stopListening(l.server);
        l.http.close();
        for (const socket of l.connections) (socket as net.Socket).destroy();
      }
      pools.destroy();
      mtls.stop();
    },
  };
}
