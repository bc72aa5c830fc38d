// Layout of the state directory. Everything an instance writes lives under it (plus /etc/netns/<netns>).
import { join } from 'node:path';
import type { LocalConfig } from './config.js';

export interface StatePaths {
  readonly root: string;
  readonly daemonLog: string;
  readonly daemonPid: string;
  readonly apiSocket: string;
  /** Journal of every host object created (JSON lines), read by `down`. */
  readonly journal: string;
  /** The bridge and ranges this state dir belongs to (state/instance.ts). */
  readonly instance: string;
  readonly cpDir: string;
  readonly cpLog: string;
  readonly cpJson: string;
  readonly webhookCa: string;
  readonly saKey: string;
  readonly saPub: string;
  /** Objects as the API would show them, one JSON file per object: store/<kind>/<ns>/<name>.json. */
  readonly storeDir: string;
  /** Per-pod runtime records (netns, container pids, users) for exec/logs/admin without the daemon. */
  readonly runtimeDir: string;
  /** Per-pod volume contents: pods/<uid>/volumes/<name>. */
  readonly podsDir: string;
  readonly logsDir: string;
  /** The skein/dataplane image, "pulled" by the daemon at start (daemon/image.ts): world-readable. */
  readonly dataplaneImage: string;
}

export function statePaths(cfg: Pick<LocalConfig, 'stateDir'>): StatePaths {
  const r = cfg.stateDir;
  const cpDir = join(r, 'cp');
  return {
    root: r,
    daemonLog: join(r, 'daemon.log'),
    daemonPid: join(r, 'daemon.pid'),
    apiSocket: join(r, 'api.sock'),
    journal: join(r, 'journal.jsonl'),
    instance: join(r, 'instance.json'),
    cpDir,
    cpLog: join(r, 'cp.log'),
    cpJson: join(cpDir, 'cp.json'),
    webhookCa: join(cpDir, 'webhook-ca.pem'),
    saKey: join(r, 'sa-key.pem'),
    saPub: join(r, 'sa-pub.pem'),
    storeDir: join(r, 'store'),
    runtimeDir: join(r, 'runtime'),
    podsDir: join(r, 'pods'),
    logsDir: join(r, 'logs'),
    dataplaneImage: join(r, 'images', 'dataplane'),
  };
}

/** The folders under the state dir that only root may read (Secrets, tokens, keys, logs): mode 0700. */
export function privateDirs(p: StatePaths): string[] {
  return [p.cpDir, p.storeDir, p.runtimeDir, p.podsDir, p.logsDir];
}

export function containerLogPath(p: StatePaths, ns: string, pod: string, container: string): string {
  return join(p.logsDir, ns, pod, `${container}.log`);
}

export function runtimeRecordPath(p: StatePaths, ns: string, pod: string): string {
  return join(p.runtimeDir, `${ns}_${pod}.json`);
}
