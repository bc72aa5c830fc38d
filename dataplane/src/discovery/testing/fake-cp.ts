// Test double of skein-cp's gRPC side (not product code, not in the image): a real grpc-js server over TLS
// on loopback with Identity.Certify (signs the CSR's key with a test mesh CA, with @peculiar/x509) and
// Discovery.Watch (pushes whatever the test publishes). The real control plane has its own tests.
import { randomBytes, webcrypto } from 'node:crypto';
import * as grpc from '@grpc/grpc-js';
import * as x509 from '@peculiar/x509';
import { DiscoveryService, IdentityService, type discovery, type identity } from '@skein/api';

x509.cryptoProvider.set(webcrypto as unknown as Parameters<typeof x509.cryptoProvider.set>[0]);

const EC = { name: 'ECDSA', namedCurve: 'P-256' } as const;
const SIGN = { name: 'ECDSA', hash: 'SHA-256' } as const;
type Keys = webcrypto.CryptoKeyPair;

export interface TestCa { certPem: string; keys: Keys; cert: x509.X509Certificate }

export async function createCa(name: string): Promise<TestCa> {
  const keys = await webcrypto.subtle.generateKey(EC, true, ['sign', 'verify']) as Keys;
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: serial(), name: `CN=${name}`, keys: keys as never, signingAlgorithm: SIGN,
    notBefore: new Date(Date.now() - 3600_000), notAfter: new Date(Date.now() + 86400_000),
    extensions: [
      new x509.BasicConstraintsExtension(true, 0, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign, true),
    ],
  });
  return { certPem: cert.toString('pem'), keys, cert };
}

/** A leaf for `publicKey` signed by `ca`. */
export async function signLeaf(ca: TestCa, publicKey: unknown, opts: {
  uris?: string[]; dns?: string[]; ips?: string[]; notBefore?: Date; notAfter: Date;
}): Promise<string> {
  const names = [
    ...(opts.uris ?? []).map((value) => ({ type: 'url' as const, value })),
    ...(opts.dns ?? []).map((value) => ({ type: 'dns' as const, value })),
    ...(opts.ips ?? []).map((value) => ({ type: 'ip' as const, value })),
  ];
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: serial(), subject: '', issuer: ca.cert.subject,
    notBefore: opts.notBefore ?? new Date(Date.now() - 60_000), notAfter: opts.notAfter,
    signingAlgorithm: SIGN, publicKey: publicKey as never, signingKey: ca.keys.privateKey as never,
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth, x509.ExtendedKeyUsage.clientAuth]),
      new x509.SubjectAlternativeNameExtension(names, true),
    ],
  });
  return cert.toString('pem');
}

/** skein-cp's own serving identity: a CA and a certificate for 127.0.0.1 (what the sidecar verifies). */
export async function servingIdentity(): Promise<{ ca: TestCa; certPem: string; keyPem: string }> {
  const ca = await createCa('skein-cp test serving CA');
  const keys = await webcrypto.subtle.generateKey(EC, true, ['sign', 'verify']) as Keys;
  const certPem = await signLeaf(ca, keys.publicKey, { ips: ['127.0.0.1'], notAfter: new Date(Date.now() + 86400_000) });
  const pkcs8 = Buffer.from(await webcrypto.subtle.exportKey('pkcs8', keys.privateKey));
  const keyPem = `-----BEGIN PRIVATE KEY-----\n${pkcs8.toString('base64').match(/.{1,64}/g)?.join('\n')}\n-----END PRIVATE KEY-----\n`;
  return { ca, certPem, keyPem };
}

function serial(): string {
  const bytes = randomBytes(16);
  bytes[0] = (bytes[0] as number) & 0x7f;
  return bytes.toString('hex');
}

export interface FakeControlPlaneOptions {
  serving: { certPem: string; keyPem: string };
  meshCa: TestCa;
  spiffeId: string;
  /** The token Certify and Watch accept (anything else: UNAUTHENTICATED). */
  token: () => string;
  /** Leaf lifetime when the request asks for none, seconds. */
  defaultTtlSeconds: number;
}

export class FakeControlPlane {
  private server: grpc.Server | undefined;
  port = 0;
  readonly certifyRequests: identity.CertifyRequest[] = [];
  readonly watchRequests: discovery.WatchRequest[] = [];
  private readonly streams = new Set<grpc.ServerWritableStream<discovery.WatchRequest, discovery.Snapshot>>();
  private snapshot: discovery.Snapshot | undefined;

  constructor(private readonly opts: FakeControlPlaneOptions) {}

  /** Listens on 127.0.0.1 (port 0 the first time, the same port after a stop). */
  async start(): Promise<void> {
    const server = new grpc.Server();
    server.addService(IdentityService, { certify: (call: grpc.ServerUnaryCall<identity.CertifyRequest, identity.CertifyResponse>, cb: grpc.sendUnaryData<identity.CertifyResponse>) => {
      void this.certify(call.request).then((res) => cb(null, res), (err: Partial<grpc.StatusObject>) => cb(err));
    } });
    server.addService(DiscoveryService, { watch: (call: grpc.ServerWritableStream<discovery.WatchRequest, discovery.Snapshot>) => this.watch(call) });
    const creds = grpc.ServerCredentials.createSsl(null,
      [{ cert_chain: Buffer.from(this.opts.serving.certPem), private_key: Buffer.from(this.opts.serving.keyPem) }], false);
    this.port = await new Promise<number>((resolve, reject) => server.bindAsync(`127.0.0.1:${this.port}`, creds, (err, port) => (err ? reject(err) : resolve(port))));
    this.server = server;
  }

  /** Stops at once, as a crashed skein-cp would: open streams break. */
  stop(): void {
    this.server?.forceShutdown();
    this.server = undefined;
    this.streams.clear();
  }

  /** The snapshot every open stream gets now and every new stream gets first. */
  publish(snapshot: discovery.Snapshot): void {
    this.snapshot = snapshot;
    for (const s of this.streams) s.write(snapshot);
  }

  /** Signs from now on with another mesh CA (a root rotation). */
  setMeshCa(ca: TestCa): void {
    this.opts.meshCa = ca;
  }

  openStreams(): number {
    return this.streams.size;
  }

  private async certify(req: identity.CertifyRequest): Promise<identity.CertifyResponse> {
    this.certifyRequests.push(req);
    if (req.token !== this.opts.token()) throw { code: grpc.status.UNAUTHENTICATED, details: 'bad token' };
    const csr = new x509.Pkcs10CertificateRequest(req.csrPem);
    if (!(await csr.verify())) throw { code: grpc.status.INVALID_ARGUMENT, details: 'csr signature' };
    const ttl = req.requestedTtlSeconds || this.opts.defaultTtlSeconds;
    const notAfter = new Date(Math.floor(Date.now() / 1000) * 1000 + ttl * 1000);
    const leaf = await signLeaf(this.opts.meshCa, await csr.publicKey.export(), { uris: [this.opts.spiffeId], notAfter });
    return {
      certChainPem: [leaf], trustAnchorsPem: [this.opts.meshCa.certPem],
      expiresAtUnix: Math.floor(notAfter.getTime() / 1000), spiffeId: this.opts.spiffeId,
    };
  }

  private watch(call: grpc.ServerWritableStream<discovery.WatchRequest, discovery.Snapshot>): void {
    this.watchRequests.push(call.request);
    if (call.request.token !== this.opts.token()) {
      call.destroy(Object.assign(new Error('bad token'), { code: grpc.status.UNAUTHENTICATED }));
      return;
    }
    this.streams.add(call);
    call.on('cancelled', () => this.streams.delete(call));
    call.on('close', () => this.streams.delete(call));
    if (this.snapshot) call.write(this.snapshot);
  }
}

/** A snapshot with defaults for everything a test does not name. */
export function snapshotOf(partial: Partial<discovery.Snapshot> & { version: string }): discovery.Snapshot {
  return { mesh: undefined, services: [], workloads: [], policies: [], self: undefined, trustAnchorsPem: [], ...partial };
}
