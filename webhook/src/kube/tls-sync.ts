// Keeps this replica's serving certificate in step with the Secret `skein-webhook-tls`.
// Leader: creates the Secret, re-issues the serving certificate when rotation.ts says so, and writes the
// CA into the caBundle of every webhook of `skein-injector`. Follower: only reads. Both poll (a rotation
// happens at most every ~290 days, so a poll every 30 s costs nothing and is simpler than a watch that
// must be re-established after every API server hiccup).
import type { Logger } from '../log.js';
import type { CheckedServing } from '../tls/material.js';
import { statusOf, type KubeIo } from './client.js';
import { ErrorThrottle } from './throttle.js';
import { WEBHOOK_CONFIGURATION_NAME, caBundlePatch } from './cabundle.js';
import {
  SECRET_TYPE, TLS_SECRET_NAME, assessSecret, decodeSecretData, encodeSecretData, renewPems, servingOf,
} from './tls-secret.js';

export const POLL_READY_MS = 30_000;
export const POLL_WAITING_MS = 3_000;

export interface TlsSyncOptions {
  readonly io: KubeIo;
  readonly namespace: string;
  readonly logger: Logger;
  readonly isLeader: () => boolean;
  /** Called with new material whenever the serving certificate in the Secret changes (and at first load). */
  readonly onMaterial: (m: CheckedServing) => void;
}

export class TlsSync {
  private current: CheckedServing | undefined;
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;
  private running: Promise<void> = Promise.resolve();
  private readonly errors: ErrorThrottle;

  constructor(private readonly opts: TlsSyncOptions) {
    this.errors = new ErrorThrottle(opts.logger, 'error');
  }

  material(): CheckedServing | undefined {
    return this.current;
  }

  start(): void {
    this.kick();
  }

  /** Runs a sync now (e.g. on becoming leader); syncs never overlap. */
  kick(): void {
    if (this.timer) clearTimeout(this.timer);
    this.running = this.running.then(() => this.syncOnce()).then(() => this.schedule());
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
  }

  private schedule(): void {
    if (this.stopped) return;
    if (this.timer) clearTimeout(this.timer); // kicks queued back to back must leave one poll timer, not two
    this.timer = setTimeout(() => this.kick(), this.current ? POLL_READY_MS : POLL_WAITING_MS);
    this.timer.unref();
  }

  private async syncOnce(): Promise<void> {
    const { io, namespace, logger } = this.opts;
    try {
      const read = await io.readSecret(namespace, TLS_SECRET_NAME);
      const pems = decodeSecretData(read?.data);
      const now = new Date();
      const verdict = assessSecret(pems, now);
      this.errors.clear();
      if (verdict.action === 'keep') {
        this.adopt(verdict.material);
        if (this.opts.isLeader()) await this.ensureCaBundle(verdict.material.caCertPem);
        return;
      }
      if (!this.opts.isLeader()) {
        logger.info({ reason: verdict.reason }, 'waiting for the leader to write the TLS secret');
        return;
      }
      const fresh = renewPems(pems, verdict, namespace, now);
      const data = encodeSecretData(fresh);
      if (read === undefined) await io.createSecret(namespace, TLS_SECRET_NAME, SECRET_TYPE, data);
      else await io.replaceSecret(namespace, TLS_SECRET_NAME, SECRET_TYPE, data, read.resourceVersion);
      logger.info({ action: verdict.action, reason: verdict.reason }, 'wrote TLS secret');
      const material = servingOf(fresh, now);
      // caBundle before serving the new certificate: with a new CA, the API server must trust it first.
      await this.ensureCaBundle(material.caCertPem);
      this.adopt(material);
    } catch (err) {
      const status = statusOf(err);
      if (status === 409) logger.info('TLS secret changed under us; re-reading');
      else this.errors.report(err, 'TLS secret sync failed; retrying');
    }
  }

  private adopt(m: CheckedServing): void {
    if (this.current?.fingerprint === m.fingerprint) return;
    this.current = m;
    this.opts.logger.info({ fingerprint: m.fingerprint, validTo: m.validTo }, 'serving certificate loaded from secret');
    this.opts.onMaterial(m);
  }

  private async ensureCaBundle(caCertPem: string): Promise<void> {
    const webhooks = await this.opts.io.readWebhooks(WEBHOOK_CONFIGURATION_NAME);
    if (webhooks === undefined) {
      this.opts.logger.warn({ name: WEBHOOK_CONFIGURATION_NAME }, 'MutatingWebhookConfiguration not found; apply manifests/ (caBundle not written)');
      return;
    }
    const ops = caBundlePatch(webhooks, caCertPem);
    if (ops.length === 0) return;
    await this.opts.io.patchWebhooks(WEBHOOK_CONFIGURATION_NAME, ops);
    this.opts.logger.info({ name: WEBHOOK_CONFIGURATION_NAME, webhooks: webhooks.length }, 'wrote caBundle');
  }
}
