// startMeshClient's body, loaded only when SKEIN_CP_ADDRESS is set: the certificate manager and the
// discovery stream against the same skein-cp, and readiness = an unexpired certificate + a first snapshot.
import type { Logger } from 'pino';
import type { RunConfig } from '../config/index.js';
import { ConfigError } from '../errors.js';
import type { Metrics } from '../metrics/index.js';
import { ControlPlane } from '../identity/control-plane.js';
import { chainsToAnchors } from '../identity/certify.js';
import { CertificateManager } from '../identity/renew.js';
import type { Backoff } from '../identity/backoff.js';
import type { MeshClient } from './index.js';
import { DiscoveryWatch } from './watch.js';

export interface MeshClientOptions {
  config: RunConfig;
  log: Logger;
  metrics: Metrics;
  /** Tests: shorter retry steps. */
  backoff?: () => Backoff;
}

export async function startMeshClientNow(opts: MeshClientOptions): Promise<MeshClient> {
  const { config, log, metrics } = opts;
  const { address, tokenPath, cpCaPath } = config.controlPlane;
  const { name, namespace, nodeName } = config.pod;
  // parseRunConfig already refuses these; a caller that builds a RunConfig by hand gets the same words.
  if (address === undefined) throw new ConfigError('SKEIN_CP_ADDRESS', 'is not set: the mesh client needs skein-cp');
  if (tokenPath === undefined) throw new ConfigError('SKEIN_TOKEN_PATH', 'is required when SKEIN_CP_ADDRESS is set');
  if (cpCaPath === undefined) throw new ConfigError('SKEIN_CP_CA_PATH', 'is required when SKEIN_CP_ADDRESS is set');
  if (name === undefined || namespace === undefined) throw new ConfigError(name === undefined ? 'POD_NAME' : 'POD_NAMESPACE', 'is required when SKEIN_CP_ADDRESS is set');
  const controlPlane = new ControlPlane({ address, tokenPath, cpCaPath });
  const identity = new CertificateManager({
    controlPlane, ttlSeconds: config.certTtlSeconds, log: log.child({ component: 'identity' }), metrics,
    ...(opts.backoff ? { backoff: opts.backoff() } : {}),
  });
  const discovery = new DiscoveryWatch({
    controlPlane, pod: { name, namespace, ip: config.podIP ?? '', nodeName: nodeName ?? '' },
    log: log.child({ component: 'discovery' }), metrics,
    ...(opts.backoff ? { backoff: opts.backoff() } : {}),
  });
  const ready = (): boolean => identity.hasValid() && discovery.current() !== undefined;
  let resolveReady!: () => void;
  const whenReady = new Promise<void>((resolve) => { resolveReady = resolve; });
  let wasReady = false;
  const check = (): void => {
    if (wasReady || !ready()) return;
    wasReady = true;
    resolveReady();
    log.info({ spiffeId: identity.current()?.spiffeId, version: discovery.current()?.version }, 'mesh client ready: certificate and first snapshot');
  };
  // Root rotation: when a snapshot's trust anchors no longer hold the root our certificate chains to,
  // peers will refuse it: renew at once instead of at the next scheduled renewal (once per anchor set).
  let checkedAnchors = '';
  discovery.onChange((view) => {
    const cert = identity.current();
    const anchors = view.trustAnchorsPem.join('');
    if (!cert || anchors === '' || anchors === checkedAnchors) return;
    checkedAnchors = anchors;
    if (!chainsToAnchors(cert.certChainPem, view.trustAnchorsPem)) identity.renewNow('the trust anchors no longer include our certificate\'s root');
  });
  const offIdentity = identity.onChange(check);
  const offDiscovery = discovery.onChange(check);
  const readyOnce = whenReady.then(() => { offIdentity(); offDiscovery(); });
  identity.start();
  discovery.start();
  log.info({ address, pod: `${namespace}/${name}`, certTtlSeconds: config.certTtlSeconds }, 'mesh client started');
  return {
    identity, discovery, ready,
    whenReady: () => readyOnce,
    stop: () => { identity.stop(); discovery.stop(); },
  };
}
