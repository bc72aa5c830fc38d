// A pod as exec/logs/admin see it, from the state dir alone (they work without the daemon): its stored
// object and its runtime record, with errors that say which pod and what to do.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { LocalConfig } from '../config.js';
import { DaemonError, LocalError, NotFoundError } from '../errors.js';
import type { Pod } from '../model/types.js';
import { runtimeRecordPath, statePaths } from '../paths.js';
import type { RuntimeRecord } from '../state/runtime-record.js';

export function readPod(cfg: LocalConfig, ns: string, name: string): Pod {
  const paths = statePaths(cfg);
  if (!existsSync(paths.storeDir)) {
    throw new DaemonError(`no node is up with state dir ${cfg.stateDir} (it holds no objects): run \`skein-local up\`, or pass the --state-dir of the running node`);
  }
  try {
    return JSON.parse(readFileSync(join(paths.storeDir, 'Pod', ns, `${name}.json`), 'utf8')) as Pod;
  } catch {
    throw new NotFoundError(`pod "${name}" not found in namespace "${ns}": see \`skein-local get pods -n ${ns}\` (or -A for every namespace)`);
  }
}

/** The pod's netns and container processes; missing while the kubelet has not set the pod up yet. */
export function readRecord(cfg: LocalConfig, pod: Pod): RuntimeRecord {
  const ns = pod.metadata.namespace ?? 'default';
  const name = pod.metadata.name!;
  try {
    const rec = JSON.parse(readFileSync(runtimeRecordPath(statePaths(cfg), ns, name), 'utf8')) as RuntimeRecord;
    if (rec.uid === pod.metadata.uid) return rec;
  } catch { /* not written yet, or the pod is stopping */ }
  throw new LocalError('E_NOT_RUNNING', `pod ${ns}/${name} is not running yet (phase ${pod.status?.phase ?? 'Pending'}): ` +
    `wait for it with \`skein-local wait pod ${name} -n ${ns} --for ready\``);
}
