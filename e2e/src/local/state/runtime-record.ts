// Per-pod runtime record (<state>/runtime/<ns>_<pod>.json): enough for exec/logs/admin to work from
// files alone, without the daemon.
import { readFile } from 'node:fs/promises';
import { NotFoundError } from '../errors.js';
import { runtimeRecordPath, type StatePaths } from '../paths.js';

/** A started container: its process (pid + start time tell a live one from a reused pid), working dir and user. */
export interface ContainerRecord { pid: number; startTime: string; cwd: string; uid: number; gid: number; groups?: number[] }

export interface RuntimeRecord {
  namespace: string;
  name: string;
  uid: string;
  netns: string;
  hostLink: string;
  podIP: string;
  containers: Record<string, ContainerRecord>;
}

export async function readRuntimeRecord(paths: StatePaths, ns: string, pod: string): Promise<RuntimeRecord> {
  try {
    return JSON.parse(await readFile(runtimeRecordPath(paths, ns, pod), 'utf8')) as RuntimeRecord;
  } catch {
    throw new NotFoundError(`pod "${pod}" not found in namespace "${ns}" (or not started yet): see \`skein-local get pods -n ${ns}\``);
  }
}
