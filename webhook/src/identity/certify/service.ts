// Identity.Certify: who may get which certificate. The order of the checks is the point:
//   1. size (before anything is parsed or verified: a 1 MiB "token" costs nothing),
//   2. the token (the only source of the identity; what the CSR names is ignored),
//   3. the CA ready? (UNAVAILABLE, retry: costs the caller nothing),
//   4. the rate limit of that identity (keyed by the verified SPIFFE ID, so nobody can spend another
//      identity's budget with made-up requests),
//   5. the CA verifies the CSR's proof of possession and signs.
// Every outcome is counted and logged once, with namespace/sa/pod/reason — never the token or the CSR.
import * as grpc from '@grpc/grpc-js';
import { CertifyRequest, IdentityService, type CertifyResponse, type IdentityServer } from '@skein/api';
import type { Registry } from 'prom-client';
import type { Logger } from '../../log.js';
import { CertifyRefusal, isCertifyRefusal } from '../errors.js';
import { spiffeIdOf } from '../token/service-account.js';
import type { PodLookup, TokenVerifier, WorkloadIdentity } from '../types.js';
import { createCertifyMetrics, type RefusedLabel } from './metrics.js';
import { checkPeerIsPod } from './peer.js';
import { CERTIFY_BURST, CERTIFY_PER_MINUTE, RateLimiter } from './rate-limit.js';

/** A whole Certify request (token + CSR + framing) is a few KiB; 64 KiB bounds the work per call. */
export const MAX_CERTIFY_REQUEST_BYTES = 64 * 1024;

/** What Certify needs of the mesh CA (identity/ca MeshCa has it). */
export interface SigningCa {
  trustAnchorsPem(): string[];
  sign(req: { csrPem: string; identity: WorkloadIdentity; ttlSeconds: number }): Promise<{ certChainPem: string[]; expiresAt: Date; serial: string; spiffeId: string }>;
}

export interface IdentityServiceDeps {
  readonly ca: () => SigningCa | undefined;
  readonly verifier: TokenVerifier;
  readonly meshSettings: () => { certTtlSeconds: number; trustDomain: string };
  readonly metrics: { registry: Registry };
  readonly log: Logger;
  /** Defaults: CERTIFY_BURST, CERTIFY_PER_MINUTE. */
  readonly rateLimit?: { burst: number; perMinute: number };
  /** When set, a bound token is honoured only from one of its pod's IPs (peer.ts; off by default). */
  readonly peerCheck?: { pods: PodLookup };
  /** For tests: the clock (ms) of the rate limiter. */
  readonly now?: () => number;
}

/** What the size-checking deserializer hands over instead of a request that is too large to parse. */
interface Oversized { readonly oversized: number }
type Incoming = CertifyRequest | Oversized;
const isOversized = (r: Incoming): r is Oversized => 'oversized' in r;

/**
 * IdentityService with a request deserializer that measures before it decodes: register this one
 * (`server.addService(CERTIFY_SERVICE_DEFINITION, impl)`) so that an oversized request is refused
 * unparsed. With the stock IdentityService the handler still refuses it, after grpc-js decoded it.
 */
export const CERTIFY_SERVICE_DEFINITION = {
  ...IdentityService,
  certify: {
    ...IdentityService.certify,
    requestDeserialize: (buf: Buffer): CertifyRequest =>
      (buf.length > MAX_CERTIFY_REQUEST_BYTES ? { oversized: buf.length } as unknown as CertifyRequest : CertifyRequest.decode(buf)),
  },
} as const;

function sizeOf(req: Incoming): number {
  if (isOversized(req)) return req.oversized;
  return Buffer.byteLength(req.token, 'utf8') + Buffer.byteLength(req.csrPem, 'utf8');
}

export function createIdentityService(deps: IdentityServiceDeps): IdentityServer {
  const metrics = createCertifyMetrics(deps.metrics.registry);
  const burst = deps.rateLimit?.burst ?? CERTIFY_BURST;
  const perMinute = deps.rateLimit?.perMinute ?? CERTIFY_PER_MINUTE;
  const limiter = new RateLimiter(burst, perMinute, deps.now);
  const log = deps.log;

  const certify = async (req: Incoming, peer: string): Promise<{ res: CertifyResponse; identity: WorkloadIdentity; serial: string; ttl: number }> => {
    const size = sizeOf(req);
    if (isOversized(req) || size > MAX_CERTIFY_REQUEST_BYTES) {
      throw new CertifyRefusal('oversized', `the request is ${size} bytes, more than ${MAX_CERTIFY_REQUEST_BYTES}; send only the projected token and one PEM CSR`);
    }
    const verified = await deps.verifier.verify(req.token);
    const settings = deps.meshSettings();
    // The trust domain is the mesh's; the names come from the verified token only.
    const identity: WorkloadIdentity = { ...verified, spiffeId: spiffeIdOf(settings.trustDomain, verified.namespace, verified.serviceAccount) };
    if (deps.peerCheck) {
      try {
        await checkPeerIsPod(deps.peerCheck.pods, identity, peer);
      } catch (err) {
        throw Object.assign(err as Error, { identity });
      }
    }
    // CA readiness first: a sidecar retrying while skein-cp starts must not spend its budget on it.
    const ca = deps.ca();
    if (ca === undefined) throw Object.assign(new CertifyRefusal('ca_not_ready', 'the mesh CA of skein-cp is not ready yet (starting, or waiting for Secret skein-ca); retry shortly'), { identity });
    const rate = limiter.take(identity.spiffeId);
    if (!rate.allowed) {
      throw Object.assign(
        new CertifyRefusal('rate_limited', `too many Certify requests for ${identity.spiffeId} (at most ${burst} at once, then ${perMinute} a minute); retry in ${rate.retryAfterSeconds} s`),
        { identity },
      );
    }
    const cap = settings.certTtlSeconds;
    const ttl = req.requestedTtlSeconds > 0 ? Math.min(req.requestedTtlSeconds, cap) : cap;
    let issued;
    try {
      issued = await ca.sign({ csrPem: req.csrPem, identity, ttlSeconds: ttl });
    } catch (err) {
      throw Object.assign(err as Error, { identity });
    }
    return {
      identity,
      serial: issued.serial,
      ttl,
      res: {
        certChainPem: issued.certChainPem,
        trustAnchorsPem: ca.trustAnchorsPem(),
        expiresAtUnix: Math.floor(issued.expiresAt.getTime() / 1000),
        spiffeId: issued.spiffeId,
      },
    };
  };

  return {
    certify(call: grpc.ServerUnaryCall<CertifyRequest, CertifyResponse>, callback: grpc.sendUnaryData<CertifyResponse>): void {
      const peer = call.getPeer();
      certify(call.request as Incoming, peer).then(
        ({ res, identity, serial, ttl }) => {
          metrics.issued.inc();
          log.child({ namespace: identity.namespace, sa: identity.serviceAccount, pod: identity.pod?.name, peer })
            .info({ spiffeId: res.spiffeId, serial, ttlSeconds: ttl, expiresAt: new Date(res.expiresAtUnix * 1000).toISOString() }, 'certificate issued');
          callback(null, res);
        },
        (err: unknown) => {
          const identity = (err as { identity?: WorkloadIdentity }).identity;
          const l = log.child({ namespace: identity?.namespace, sa: identity?.serviceAccount, pod: identity?.pod?.name, peer });
          if (isCertifyRefusal(err)) {
            metrics.refused.inc({ reason: err.reason satisfies RefusedLabel });
            l.warn({ reason: err.reason, code: grpc.status[err.code] }, `certificate refused: ${err.message}`);
            callback({ code: err.code, details: err.message });
            return;
          }
          // skein-cp's side (API server, pod lookup, CA): the caller cannot fix it, it retries.
          metrics.refused.inc({ reason: 'internal' satisfies RefusedLabel });
          l.error({ reason: 'internal', err }, 'Certify failed on skein-cp\'s side');
          callback({ code: grpc.status.UNAVAILABLE, details: `skein-cp could not check this request right now (${(err as Error).message}); retry with backoff` });
        },
      );
    },
  };
}
