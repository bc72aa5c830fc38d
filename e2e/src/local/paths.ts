// Layout of the state directory. Everything an instance writes lives under it (plus /etc/netns/<netns>).
import { createHash } from 'node:crypto';
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
  /** The mesh trust anchors skein-cp publishes (its mesh-ca/trust-bundle.pem), copied into ConfigMap skein-ca-root. */
  readonly meshTrustBundle: string;
  readonly saKey: string;
  readonly saPub: string;
  /** Objects as the API would show them, one JSON file per object: store/<kind>/<ns>/<name>.json. */
  readonly storeDir: string;
  /** Per-pod runtime records (netns, container pids, users) for exec/logs/admin without the daemon. */
  readonly runtimeDir: string;
  /** Per-pod volume contents: pods/<uid>/volumes/<name>. */
  readonly podsDir: string;
  readonly logsDir: string;
  /** This instance's images (daemon/image.ts): IMAGES_ROOT/<12 hex of the state dir's path>. */
  readonly imagesDir: string;
  /** The skein/dataplane image, "pulled" by the daemon at start: read-only, world-readable. */
  readonly dataplaneImage: string;
}

/**
 * Where images live: outside the state dir, which is root-only (Secrets, tokens, keys), so that the
 * users containers run as can read them; and outside /run, which the injected skein-init mounts its
 * xtables lock volume over (an image under /run/skein-local vanished from that container's view).
 */
export const IMAGES_ROOT = '/var/lib/skein-local/images';

export function statePaths(cfg: Pick<LocalConfig, 'stateDir'>): StatePaths {
  const r = cfg.stateDir;
  const cpDir = join(r, 'cp');
  const imagesDir = join(IMAGES_ROOT, createHash('sha256').update(r).digest('hex').slice(0, 12));
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
    meshTrustBundle: join(cpDir, 'mesh-ca', 'trust-bundle.pem'),
    saKey: join(r, 'sa-key.pem'),
    saPub: join(r, 'sa-pub.pem'),
    storeDir: join(r, 'store'),
    runtimeDir: join(r, 'runtime'),
    podsDir: join(r, 'pods'),
    logsDir: join(r, 'logs'),
    imagesDir,
    dataplaneImage: join(imagesDir, 'dataplane'),
  };
}

export function containerLogPath(p: StatePaths, ns: string, pod: string, container: string): string {
  return join(p.logsDir, ns, pod, `${container}.log`);
}

export function runtimeRecordPath(p: StatePaths, ns: string, pod: string): string {
  return join(p.runtimeDir, `${ns}_${pod}.json`);
}
