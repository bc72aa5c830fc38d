// Per-pod runtime record (<state>/runtime/<ns>_<pod>.json): enough for exec/logs/admin to work from
// files alone, without the daemon. Written by the pod worker; read by commands/pod-state.ts.

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
