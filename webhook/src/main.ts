#!/usr/bin/env node
// skein-cp: the Skein control plane process. Wires config → TLS material (local state dir or the
// Kubernetes Secret) → listeners (webhook HTTPS, gRPC TLS, health HTTP) → signal handling. The only place
// that exits the process; everything it starts is drained on SIGTERM/SIGINT.
import { hostname } from 'node:os';
import { createAdmissionApp, AdmissionMetrics } from './admission/index.js';
import { WEBHOOK_PATH, controlPlaneAddress } from './contract.js';
import { defaultInjectorConfig, type InjectorConfig } from './injector/index.js';
import { USAGE, loadConfig, type CpConfig } from './config/index.js';
import { ensureDir, removeCpState, writeCpState, writeWebhookCa } from './config/state-dir.js';
import { ConfigError, SkeinCpError, StoppedDuringStartError } from './errors.js';
import { createRootLogger, type Logger } from './log.js';
import { VERSION } from './version.js';
import { createCpMetrics, type CpMetrics } from './health/metrics.js';
import { startHealthServer } from './health/server.js';
import { closeHttpServer, startGrpcServer, startWebhookServer, type GrpcListener, type WebhookListener } from './server.js';
import { issueServing } from './tls/issue.js';
import { loadOrCreateCa } from './tls/local-store.js';
import { checkServing, type CheckedServing } from './tls/material.js';
import { CertRotator } from './tls/rotator.js';
import type { KubeMode } from './kube/index.js';
import { startMeshServices, type RunningMeshServices } from './mesh-services.js';

/** Shorter than Kubernetes' default terminationGracePeriodSeconds (30 s), so we exit before SIGKILL. */
const SHUTDOWN_GRACE_MS = 20_000;
const KUBE_TLS_WAIT_MS = 500;

interface Listeners {
  webhook?: WebhookListener;
  grpc?: GrpcListener;
  /** The CA of the current serving certificate (published as control-plane-ca.pem of skein-ca-root). */
  servingCaPem?: string;
}

/** Where the serving certificate comes from and who is told when it changes. */
interface TlsSource {
  readonly first: CheckedServing;
  /** Kubernetes mode: the API server connection and leader state, for the mesh services. */
  readonly kube?: KubeMode;
  readonly nativeSidecarDefault: boolean;
  readonly nativeSidecarRunToCompletion: boolean;
  stop(): Promise<void>;
}

function applyMaterial(m: CheckedServing, l: Listeners, metrics: CpMetrics): void {
  l.servingCaPem = m.caCertPem;
  l.webhook?.rotate(m);
  l.grpc?.rotate(m);
  metrics.certExpiry.set(m.validTo.getTime() / 1000);
}

async function localSource(config: CpConfig, log: Logger, l: Listeners, metrics: CpMetrics): Promise<TlsSource> {
  const stateDir = config.stateDir as string; // required in local mode (config module)
  await ensureDir(stateDir);
  await removeCpState(stateDir); // a stale cp.json would send skein-local to a dead process
  const ca = await loadOrCreateCa(stateDir, log.child({ component: 'ca' }));
  const issue = async (): Promise<CheckedServing> => {
    const pair = issueServing(ca, config.namespace);
    return checkServing({ caCertPem: ca.certPem, certPem: pair.certPem, keyPem: pair.keyPem });
  };
  let current = await issue();
  const rotator = new CertRotator({
    current: () => current,
    renew: issue,
    onRenewed: (m) => { current = m; applyMaterial(m, l, metrics); metrics.certRotations.inc({ result: 'ok' }); },
    onFailed: () => metrics.certRotations.inc({ result: 'error' }),
    logger: log.child({ component: 'rotation' }),
  });
  rotator.start();
  metrics.leader.set(1);
  // Local mode has no API server to ask: classic sidecars unless told otherwise; skein-local runs native
  // sidecars, so Jobs get one unless --native-sidecar false.
  return {
    first: current,
    nativeSidecarDefault: config.nativeSidecar === 'true',
    nativeSidecarRunToCompletion: config.nativeSidecar !== 'false',
    stop: async () => rotator.stop(),
  };
}

async function kubernetesSource(config: CpConfig, log: Logger, l: Listeners, metrics: CpMetrics, stopping: () => boolean,
  mesh: () => RunningMeshServices | undefined): Promise<TlsSource> {
  const { startKubernetesMode } = await import('./kube/index.js');
  let seen = false;
  const mode = await startKubernetesMode(config, log, {
    onMaterial: (m) => {
      if (seen) metrics.certRotations.inc({ result: 'ok' });
      seen = true;
      applyMaterial(m, l, metrics);
      mesh()?.onServingCaChange();
    },
    onLeaderChange: (leading) => { metrics.leader.set(leading ? 1 : 0); mesh()?.onLeaderChange(leading); },
  });
  // Listeners need a certificate: wait until the leader (maybe us) has written the Secret.
  while (mode.material() === undefined) {
    if (stopping()) { await mode.stop(); throw new StoppedDuringStartError(); }
    await new Promise((r) => setTimeout(r, KUBE_TLS_WAIT_MS));
  }
  return {
    first: mode.material() as CheckedServing,
    kube: mode,
    nativeSidecarDefault: mode.nativeSidecarDefault,
    nativeSidecarRunToCompletion: mode.nativeSidecarRunToCompletion,
    stop: () => mode.stop(),
  };
}

async function run(config: CpConfig, root: Logger): Promise<void> {
  const log = root.child({ component: 'main' });
  const metrics = createCpMetrics(VERSION);
  const admissionMetrics = new AdmissionMetrics(metrics.registry);
  const l: Listeners = {};
  const started: { source?: TlsSource; mesh?: RunningMeshServices } = {};
  /** Aborts a mesh start that still waits for the CA Secret when a signal arrives. */
  const meshStart = new AbortController();
  let stopping = false;

  const health = await startHealthServer({
    registry: metrics.registry,
    logger: root.child({ component: 'health' }),
    readiness: {
      notReadyReason: () => {
        const reason = stopping ? 'shutting down' : l.webhook === undefined ? 'webhook not listening (waiting for the serving certificate)' : undefined;
        metrics.ready.set(reason === undefined ? 1 : 0);
        return reason;
      },
    },
  }, config.bindAddress, config.healthPort);
  log.info({ listener: 'health', address: config.bindAddress, port: health.port }, 'listening (HTTP /healthz /readyz /metrics)');

  let shutdownStarted = false;
  const shutdown = async (signal: string): Promise<void> => {
    if (shutdownStarted) { log.warn({ signal }, 'second signal: exiting now'); process.exit(1); }
    shutdownStarted = true;
    stopping = true;
    log.info({ signal, graceMs: SHUTDOWN_GRACE_MS }, 'shutting down: refusing new work, draining in-flight requests');
    meshStart.abort();
    await started.mesh?.stop();
    await started.source?.stop();
    await Promise.all([l.webhook?.close(SHUTDOWN_GRACE_MS), l.grpc?.close(SHUTDOWN_GRACE_MS)]);
    if (config.mode === 'local' && config.stateDir) await removeCpState(config.stateDir);
    await closeHttpServer(health.server, 1_000);
    log.info('stopped');
    process.exit(0);
  };
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
  process.on('SIGINT', () => void shutdown('SIGINT'));

  const source = config.mode === 'local'
    ? await localSource(config, root, l, metrics)
    : await kubernetesSource(config, root, l, metrics, () => stopping, () => started.mesh);
  started.source = source;
  if (stopping) throw new StoppedDuringStartError();
  const first = source.first;
  metrics.certExpiry.set(first.validTo.getTime() / 1000);

  const injector: InjectorConfig = {
    ...defaultInjectorConfig(VERSION),
    ...(config.dataplaneImage === undefined ? {} : { dataplaneImage: config.dataplaneImage }),
    controlPlaneAddress: controlPlaneAddress(config.namespace),
    controlPlaneNamespace: config.namespace,
    nativeSidecarDefault: source.nativeSidecarDefault,
    nativeSidecarRunToCompletion: source.nativeSidecarRunToCompletion,
  };
  const app = createAdmissionApp({ injector, logger: root, metrics: admissionMetrics });
  const mesh = await startMeshServices(config, root, metrics, source.kube, () => l.servingCaPem ?? first.caCertPem, meshStart.signal);
  started.mesh = mesh;
  if (stopping) throw new StoppedDuringStartError();
  l.grpc = await startGrpcServer(first, config.bindAddress, config.grpcPort, mesh.services);
  log.info({ listener: 'grpc', address: config.bindAddress, port: l.grpc.port, identity: mesh.services.identity !== undefined, discovery: mesh.services.discovery !== undefined },
    'listening (gRPC over TLS: grpc.health.v1, skein.v1.Identity, skein.v1.Discovery)');
  l.webhook = await startWebhookServer(app, first, config.bindAddress, config.webhookPort);
  log.info({ listener: 'webhook', address: config.bindAddress, port: l.webhook.port, path: WEBHOOK_PATH }, 'listening (HTTPS admission webhook)');
  log.info({ fingerprint: first.fingerprint, validTo: first.validTo, nativeSidecarDefault: injector.nativeSidecarDefault, nativeSidecarRunToCompletion: injector.nativeSidecarRunToCompletion, version: VERSION }, 'serving certificate loaded');

  if (stopping) throw new StoppedDuringStartError(); // shutdown already removed cp.json; do not rewrite it
  if (config.mode === 'local' && config.stateDir) {
    // webhook-ca.pem first, cp.json last: cp.json appearing means everything it names is ready.
    await writeWebhookCa(config.stateDir, first.caCertPem);
    await writeCpState(config.stateDir, {
      pid: process.pid,
      webhookPort: l.webhook.port,
      grpcPort: l.grpc.port,
      healthPort: health.port,
      bindAddress: config.bindAddress,
    });
    log.info({ stateDir: config.stateDir }, 'wrote cp.json and webhook-ca.pem');
  }
}

async function main(): Promise<void> {
  let config: CpConfig;
  try {
    config = loadConfig(process.argv.slice(2), process.env, hostname());
  } catch (err) {
    if (err instanceof ConfigError) {
      console.error(`skein-cp: ${err.message}`);
      process.exit(2);
    }
    throw err;
  }
  if (config.help) {
    console.log(USAGE);
    process.exit(0);
  }
  const root = createRootLogger(config.logLevel);
  const log = root.child({ component: 'main' });
  log.info({ version: VERSION, mode: config.mode, namespace: config.namespace, identity: config.podName }, 'starting');
  try {
    await run(config, root);
  } catch (err) {
    if (err instanceof StoppedDuringStartError) return; // shutdown() drains and exits 0
    const code = err instanceof SkeinCpError ? err.code : 'SKEIN_CP_INTERNAL';
    log.fatal({ err, code }, 'skein-cp failed to start');
    process.exit(1);
  }
}

void main();
