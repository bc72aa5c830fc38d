// The Discovery.Watch stream: opened with the pod's token and the version it already has, it applies each
// snapshot (mesh-view.ts) and reopens by itself with backoff after an error, an end or a skein-cp restart.
// The last good view stays in place while the stream is down and when a snapshot cannot be used: the
// sidecar never falls back to "no mesh" (fail static, never open).
import type { discovery } from '@skein/api';
import type { Logger } from 'pino';
import type { Metrics } from '../metrics/index.js';
import { Backoff } from '../identity/backoff.js';
import type { ControlPlane } from '../identity/control-plane.js';
import type { DiscoveryProvider, MeshView } from './index.js';
import { LoadTable } from '../balance/types.js';
import { buildMeshView } from './mesh-view.js';

export interface WatchOptions {
  controlPlane: ControlPlane;
  pod: { name: string; namespace: string; ip: string; nodeName: string };
  log: Logger;
  metrics: Pick<Metrics, 'discoverySnapshots' | 'discoveryReconnects'>;
  backoff?: Backoff;
}

export class DiscoveryWatch implements DiscoveryProvider {
  private view: MeshView | undefined;
  private readonly listeners = new Set<(view: MeshView) => void>();
  private close: (() => void) | undefined;
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;
  private opened = 0;
  private readonly backoff: Backoff;
  /** The endpoints' in-flight counts, kept across snapshots (least-request). */
  private readonly loads = new LoadTable();

  constructor(private readonly opts: WatchOptions) {
    this.backoff = opts.backoff ?? new Backoff();
  }

  start(): void {
    void this.open();
  }

  current(): MeshView | undefined {
    return this.view;
  }

  onChange(listener: (view: MeshView) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
    this.listeners.clear();
    this.close?.();
  }

  private async open(): Promise<void> {
    if (this.stopped) return;
    const { log, metrics, pod } = this.opts;
    if (this.opened++ > 0) metrics.discoveryReconnects.inc();
    let client;
    let token: string;
    try {
      token = await this.opts.controlPlane.token();
      client = await this.opts.controlPlane.discoveryClient();
    } catch (err) {
      return this.retry((err as Error).message);
    }
    if (this.stopped) { client.close(); return; }
    const call = client.watch({
      token, podName: pod.name, podNamespace: pod.namespace, podIp: pod.ip, nodeName: pod.nodeName,
      lastVersion: this.view?.version ?? '',
    });
    let done = false;
    const finish = (reason: string, code?: number): void => {
      if (done) return;
      done = true;
      this.close = undefined;
      call.removeAllListeners('data');
      call.cancel();
      client.close();
      if (!this.stopped) this.retry(reason, code);
    };
    this.close = () => { done = true; call.cancel(); client.close(); };
    call.on('data', (snapshot: discovery.Snapshot) => {
      this.backoff.reset();
      this.apply(snapshot);
    });
    call.on('error', (err: Error & { code?: number }) => finish(err.message, err.code));
    call.on('end', () => finish('skein-cp ended the stream'));
    log.debug({ lastVersion: this.view?.version ?? '' }, 'discovery stream opened');
  }

  private retry(reason: string, code?: number): void {
    if (this.stopped) return;
    const retryInMs = this.backoff.next();
    const fields = { err: reason, grpcCode: code, retryInMs, version: this.view?.version };
    if (this.view) this.opts.log.warn(fields, 'discovery stream down: keeping the last snapshot, reconnecting');
    else this.opts.log.warn(fields, 'no discovery snapshot yet: reconnecting');
    clearTimeout(this.timer);
    this.timer = setTimeout(() => void this.open(), retryInMs);
    this.timer.unref();
  }

  private apply(snapshot: discovery.Snapshot): void {
    const { log, metrics } = this.opts;
    if (this.view && snapshot.version !== '' && snapshot.version === this.view.version) return;
    let view;
    try {
      view = buildMeshView(snapshot, this.loads);
    } catch (err) {
      log.error({ err: (err as Error).message, version: snapshot.version }, 'discovery snapshot not usable: keeping the last one');
      return;
    }
    const first = this.view === undefined;
    this.view = view;
    metrics.discoverySnapshots.inc();
    log.info({
      version: view.version, services: snapshot.services.length, workloads: snapshot.workloads.length,
      mtlsMode: view.mtlsMode, skipped: view.skipped,
    }, first ? 'first discovery snapshot applied' : 'discovery snapshot applied');
    for (const listener of this.listeners) {
      try {
        listener(view);
      } catch (err) {
        log.error({ err: (err as Error).message }, 'a discovery listener failed');
      }
    }
  }
}
