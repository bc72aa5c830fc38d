// The node daemon (`skein-local daemon`, started detached by `up`): sets up the bridge and rules,
// starts skein-cp, serves the socket API, runs pods. `down` tears everything down from the journal.
import { rm, writeFile } from 'node:fs/promises';
import type { Server } from 'node:http';
import type { LocalConfig } from '../config.js';
import { gateway } from '../network/cidr.js';
import { bridgeExists, setupHostNetwork } from '../network/host-net.js';
import { rootLogger, type Logger } from '../log.js';
import type { Service } from '../model/types.js';
import { statePaths, type StatePaths } from '../paths.js';
import { takeInventory, removedBetween, type RemovedCounts } from '../state/inventory.js';
import { Journal, processStartTime } from '../state/journal.js';
import { Store } from '../store/store.js';
import { ensureSigningKey } from '../volumes/token.js';
import { startApiServer, type ApiState } from './api-server.js';
import { readCaRoot, startControlPlane, type RunningControlPlane } from './control-plane.js';
import { pullDataplaneImage } from './image.js';
import { prepareStateDir } from '../state/layout.js';
import { LocalNode } from './node.js';
import { LocalError } from '../errors.js';

/** Resolves with the process exit code once the daemon has shut down. */
export async function runDaemon(cfg: LocalConfig): Promise<number> {
  const paths = statePaths(cfg);
  // Root only: the store holds Secrets and the volumes hold tokens (state/layout.ts).
  prepareStateDir(paths);
  const log = rootLogger(paths.daemonLog).child({ component: 'daemon' });
  const journal = new Journal(paths.journal);
  journal.record({ t: 'process', pid: process.pid, startTime: processStartTime(process.pid) ?? '', what: 'daemon' });
  await writeFile(paths.daemonPid, String(process.pid));
  let finish!: (code: number) => void;
  const finished = new Promise<number>((r) => { finish = r; });
  let node: LocalNode | undefined;
  let cp: RunningControlPlane | undefined;
  let server: Server | undefined;
  let stopping = false;
  let caRootTimer: NodeJS.Timeout | undefined;
  let stopped: Promise<RemovedCounts> | undefined;
  /** Stops the pods and skein-cp (once); resolves with what that removed from the host, for `down`'s summary. */
  const stopAll = (): Promise<RemovedCounts> => (stopped ??= (async () => {
    stopping = true;
    clearInterval(caRootTimer);
    log.info('shutting down: stopping pods and skein-cp');
    const before = await takeInventory(cfg, paths);
    await node?.shutdown().catch((err: Error) => log.error({ err: err.message }, 'stopping pods failed'));
    await cp?.stop().catch(() => undefined);
    const removed = removedBetween(before, await takeInventory(cfg, paths));
    log.info({ ...removed }, 'pods and skein-cp stopped');
    return removed;
  })());
  let exiting = false;
  const shutdown = async (code: number): Promise<void> => {
    await stopAll();
    if (exiting) return;
    exiting = true;
    server?.close();
    log.info('daemon stopped');
    finish(code);
  };
  const state: ApiState = { ready: false, stop: stopAll, exit: () => void shutdown(0) };
  // One pod's bug must not take the node down: log stray rejections instead of crashing.
  process.on('unhandledRejection', (err) => log.error({ err: err instanceof Error ? err.stack : String(err) }, 'unhandled rejection'));
  process.on('SIGTERM', () => void shutdown(0));
  process.on('SIGINT', () => void shutdown(0));
  try {
    server = await startApiServer(paths.apiSocket, state, log.child({ component: 'api' }));
    if (await bridgeExists(cfg.bridge)) {
      throw new LocalError('E_BRIDGE_EXISTS', `bridge ${cfg.bridge} already exists: another skein-local instance uses it, or a previous run left it (run \`skein-local down\` with the same --bridge, or pick another --bridge)`);
    }
    log.info({ bridge: cfg.bridge, podCidr: cfg.podCidr.text, serviceCidr: cfg.serviceCidr.text, gateway: gateway(cfg.podCidr) }, 'setting up the node network');
    await setupHostNetwork(cfg, journal);
    await pullDataplaneImage(paths, log.child({ component: 'images' }));
    const key = await ensureSigningKey(paths.saKey, paths.saPub);
    // The store first: skein-cp's discovery reads it (--local-store) from its first moment.
    await rm(paths.storeDir, { recursive: true, force: true });
    const store = new Store(paths.storeDir);
    log.info('starting skein-cp --mode local');
    cp = await startControlPlane(cfg, paths, journal);
    log.info({ ...cp.info }, 'skein-cp ready');
    node = new LocalNode(cfg, paths, store, journal, log, key);
    node.bootstrap(cp.caRoot);
    caRootTimer = watchCaRoot(node, paths, log);
    await exposeControlPlane(node, cp);
    // Like kubelet for the control-plane pod: restart skein-cp if it dies (ports change; rules follow).
    const superviseCp = (running: RunningControlPlane): void => {
      void running.proc.exited.then(async (e) => {
        if (stopping) return;
        log.error({ code: e.code, signal: e.signal }, 'skein-cp exited unexpectedly: restarting it');
        for (let attempt = 1; !stopping; attempt++) {
          await new Promise((r) => setTimeout(r, Math.min(10_000, 1000 * attempt)));
          if (stopping) return;
          try {
            cp = await startControlPlane(cfg, paths, journal);
            state.error = undefined;
            await exposeControlPlane(node!, cp);
            node!.setCaRoot(cp.caRoot);
            log.info({ ...cp.info }, 'skein-cp restarted');
            superviseCp(cp);
            return;
          } catch (err) {
            state.error = `skein-cp does not start: ${(err as Error).message}`;
            log.error({ err: (err as Error).message, attempt }, 'restarting skein-cp failed');
          }
        }
      });
    };
    superviseCp(cp);
    state.node = node;
    state.ready = true;
    log.info({ socket: paths.apiSocket }, 'node ready');
  } catch (err) {
    state.error = (err as Error).message;
    log.error({ err: state.error }, 'start-up failed');
    await shutdown(1);
  }
  return finished;
}

/** skein-cp rewrites its trust bundle on a root rotation: the ConfigMaps follow within 2 s. */
function watchCaRoot(node: LocalNode, paths: StatePaths, log: Logger): NodeJS.Timeout {
  const timer = setInterval(() => {
    readCaRoot(paths).then((caRoot) => node.setCaRoot(caRoot), (err: Error) => log.warn({ err: err.message }, 'cannot read skein-cp\'s CA files'));
  }, 2000);
  timer.unref();
  return timer;
}

/** skein-cp listens on loopback; pods reach it as skein-cp.skein-system.svc through a DNAT to 127.0.0.1. */
async function exposeControlPlane(node: LocalNode, cp: RunningControlPlane): Promise<void> {
  const svc: Service = {
    apiVersion: 'v1', kind: 'Service',
    metadata: { name: 'skein-cp', namespace: 'skein-system', labels: { app: 'skein-cp', 'app.kubernetes.io/managed-by': 'skein-local' } },
    spec: { ports: [{ name: 'grpc', port: 15012, targetPort: cp.info.grpcPort }, { name: 'http-monitoring', port: 15014, targetPort: cp.info.healthPort }] },
  };
  await node.applyOne(svc);
  const vip = node.store.get<Service>('Service', 'skein-system', 'skein-cp')!.spec.clusterIP!;
  node.services.setExtraRules('skein-cp', [
    { id: 'skein-system/skein-cp:15012', vip, port: 15012, protocol: 'tcp', endpoints: [{ ip: '127.0.0.1', port: cp.info.grpcPort }] },
    { id: 'skein-system/skein-cp:15014', vip, port: 15014, protocol: 'tcp', endpoints: [{ ip: '127.0.0.1', port: cp.info.healthPort }] },
  ]);
  await node.services.settle();
}
