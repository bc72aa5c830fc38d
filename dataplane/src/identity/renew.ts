// Keeps a workload certificate: asks for one at start, renews it at a random point between 50 % and 75 %
// of its remaining lifetime (counted from when it arrived: skein-cp backdates notBefore by a minute for
// clock skew, which must not pull the renewal forward), retries with backoff while skein-cp is away or says
// no, and keeps the certificate it has until it expires (fail static): a control-plane outage shorter than
// a quarter of the lifetime is invisible. Never logs the key or the token.
import type { Logger } from 'pino';
import type { Metrics } from '../metrics/index.js';
import { Backoff } from './backoff.js';
import { CertifyError, requestCertificate } from './certify.js';
import type { ControlPlane } from './control-plane.js';
import type { IdentityProvider, WorkloadCertificate } from './index.js';

/** setTimeout's limit (2^31 - 1 ms, ~24.8 days): a longer lifetime renews then, which is only early. */
const MAX_TIMER_MS = 2_147_483_647;

export interface CertificateManagerOptions {
  controlPlane: ControlPlane;
  /** Requested lifetime, seconds; 0 = the mesh's certTTL. */
  ttlSeconds: number;
  log: Logger;
  metrics: Pick<Metrics, 'certExpiry' | 'certRenewals'>;
  backoff?: Backoff;
  random?: () => number;
}

export class CertificateManager implements IdentityProvider {
  private cert: WorkloadCertificate | undefined;
  private readonly listeners = new Set<(cert: WorkloadCertificate) => void>();
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;
  private readonly backoff: Backoff;
  private readonly random: () => number;
  private expiredLogged = false;
  private inFlight = false;

  constructor(private readonly opts: CertificateManagerOptions) {
    this.backoff = opts.backoff ?? new Backoff();
    this.random = opts.random ?? Math.random;
  }

  start(): void {
    this.schedule(0);
  }

  current(): WorkloadCertificate | undefined {
    return this.cert;
  }

  /** A certificate that has not expired yet. */
  hasValid(now = Date.now()): boolean {
    return this.cert !== undefined && this.cert.notAfter.getTime() > now;
  }

  onChange(listener: (cert: WorkloadCertificate) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /**
   * Ask for a new certificate now (unless a request is already under way or stopped): the trust anchors
   * changed and ours no longer chains to them. The usual backoff applies if skein-cp does not answer.
   */
  renewNow(reason: string): void {
    if (this.stopped || this.inFlight) return;
    this.opts.log.info({ reason, serial: this.cert?.serial }, 'renewing the workload certificate now');
    this.schedule(0);
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
    this.listeners.clear();
  }

  private schedule(ms: number): void {
    clearTimeout(this.timer);
    if (this.stopped) return;
    this.timer = setTimeout(() => void this.attempt(), Math.min(ms, MAX_TIMER_MS));
    this.timer.unref();
  }

  private async attempt(): Promise<void> {
    const { log, metrics } = this.opts;
    const first = this.cert === undefined;
    let cert: WorkloadCertificate;
    this.inFlight = true;
    try {
      cert = await requestCertificate(this.opts.controlPlane, this.opts.ttlSeconds);
    } catch (err) {
      this.inFlight = false;
      if (this.stopped) return;
      const failure = err instanceof CertifyError ? err : new CertifyError('error', (err as Error).message, undefined, { cause: err });
      metrics.certRenewals.inc({ result: failure.result });
      const retryInMs = this.backoff.next();
      const now = Date.now();
      const old = this.cert;
      const fields = {
        result: failure.result, grpcCode: failure.grpcCode, err: failure.message, retryInMs,
        ...(old ? { serial: old.serial, expiresInS: Math.round((old.notAfter.getTime() - now) / 1000) } : {}),
      };
      if (old && old.notAfter.getTime() <= now) {
        if (!this.expiredLogged) log.error(fields, 'the workload certificate has expired and skein-cp gives no new one: mTLS connections fail until it does');
        this.expiredLogged = true;
      } else if (failure.result === 'unavailable' && old) {
        log.warn(fields, 'certificate renewal failed, skein-cp unreachable: retrying, serving with the current certificate');
      } else {
        log[failure.result === 'unavailable' ? 'warn' : 'error'](fields, first ? 'no workload certificate yet: retrying' : 'certificate renewal failed: retrying');
      }
      this.schedule(retryInMs);
      return;
    }
    this.inFlight = false;
    if (this.stopped) return;
    this.backoff.reset();
    this.expiredLogged = false;
    this.cert = cert;
    const now = Date.now();
    const start = Math.max(now, cert.notBefore.getTime());
    const renewInMs = Math.max(0, (cert.notAfter.getTime() - start) * (0.5 + 0.25 * this.random()) - (now - start));
    metrics.certRenewals.inc({ result: 'ok' });
    metrics.certExpiry.set(Math.floor(cert.notAfter.getTime() / 1000));
    log.info({
      spiffeId: cert.spiffeId, serial: cert.serial, notAfter: cert.notAfter.toISOString(), renewInS: Math.round(renewInMs / 1000),
    }, first ? 'workload certificate issued' : 'workload certificate renewed');
    this.schedule(renewInMs);
    for (const listener of this.listeners) {
      try {
        listener(cert);
      } catch (err) {
        log.error({ err: (err as Error).message }, 'a certificate listener failed');
      }
    }
  }
}
