// Kubernetes mode of skein-cp: TLS material from the shared Secret (leader-elected writes), caBundle
// upkeep, and the API server version for the native-sidecar default. May import ../config, ../tls,
// ../log, ../errors; the admission code never imports this folder.
import type { CpConfig } from '../config/index.js';
import type { Logger } from '../log.js';
import type { CheckedServing } from '../tls/material.js';
import { connect, type KubeIo } from './client.js';
import { LeaderElector } from './leader.js';
import { TlsSync } from './tls-sync.js';
import { parseKubeVersion, resolveNativeSidecar, resolveNativeSidecarRunToCompletion, type KubeVersion } from './version.js';

export interface KubeMode {
  readonly nativeSidecarDefault: boolean;
  readonly nativeSidecarRunToCompletion: boolean;
  readonly serverVersion: KubeVersion | undefined;
  /** The API server connection, for the mesh's own watchers and writers (identity, discovery). */
  readonly io: KubeIo;
  material(): CheckedServing | undefined;
  isLeader(): boolean;
  stop(): Promise<void>;
}

export interface KubeModeHooks {
  readonly onMaterial: (m: CheckedServing) => void;
  readonly onLeaderChange: (leading: boolean) => void;
}

async function serverVersion(io: KubeIo, logger: Logger): Promise<KubeVersion | undefined> {
  try {
    const info = await io.serverVersion();
    const v = parseKubeVersion(info);
    if (!v) logger.warn({ info }, 'cannot parse the API server version');
    return v;
  } catch (err) {
    logger.warn({ err }, 'cannot read the API server version');
    return undefined;
  }
}

/**
 * `root` is the process root logger; each part takes its own `component` child. Tests point
 * `config.kubeconfig` at the in-memory API server (testing/apiserver/, replicas.test.ts), so they run
 * the same client code as a cluster does.
 */
export async function startKubernetesMode(config: CpConfig, root: Logger, hooks: KubeModeHooks): Promise<KubeMode> {
  const logger = root.child({ component: 'kube' });
  const io = await connect(config.kubeconfig);
  const version = config.nativeSidecar === 'auto' ? await serverVersion(io, logger) : undefined;
  const nativeSidecarDefault = resolveNativeSidecar(config.nativeSidecar, version);
  const nativeSidecarRunToCompletion = resolveNativeSidecarRunToCompletion(config.nativeSidecar, version);
  logger.info({ serverVersion: version, setting: config.nativeSidecar, nativeSidecarDefault, nativeSidecarRunToCompletion }, 'native sidecar default');

  const ref: { sync?: TlsSync } = {};
  const elector = new LeaderElector({
    io,
    namespace: config.namespace,
    identity: config.podName,
    logger: root.child({ component: 'leader' }),
    onChange: (leading) => {
      hooks.onLeaderChange(leading);
      if (leading) ref.sync?.kick(); // a new leader checks the Secret and caBundle at once
    },
  });
  const sync = new TlsSync({
    io,
    namespace: config.namespace,
    logger: root.child({ component: 'tls-sync' }),
    isLeader: () => elector.isLeader(),
    onMaterial: hooks.onMaterial,
  });
  ref.sync = sync;
  elector.start();
  sync.start();
  const s = sync;
  return {
    nativeSidecarDefault,
    nativeSidecarRunToCompletion,
    serverVersion: version,
    io,
    material: () => s.material(),
    isLeader: () => elector.isLeader(),
    stop: async () => {
      s.stop();
      await elector.stop();
    },
  };
}
