// How a container process is started and entered: argv builders (pure) for
//   ip netns exec <netns>          — the pod's network namespace, plus a private mount namespace
//   unshare --uts                  — its own hostname (the pod name)
//   sh -c '<bind mounts>; cd; exec setpriv … -- argv'   — volumes, working dir, user
// Each container gets its own mount namespace (ip netns exec unshares one per process), not one per pod:
// volumes are shared through the same host directories, so containers still see each other's writes.
import { shQuote } from '../exec.js';

export interface Mount { source: string; target: string; readOnly: boolean; isFile?: boolean }

/** The container's user: uid, primary gid and supplementary groups (the pod's `supplementalGroups`). */
export interface User { uid: number; gid: number; groups?: readonly number[] }

export interface LaunchSpec {
  netns: string;
  hostname: string;
  mounts: readonly Mount[];
  cwd: string;
  user: User;
  argv: readonly string[];
}

function userPrefix(u: User): string[] {
  const groups = u.groups ?? [];
  if (u.uid === 0 && u.gid === 0 && groups.length === 0) return [];
  return ['setpriv', `--reuid=${u.uid}`, `--regid=${u.gid}`, groups.length ? `--groups=${groups.join(',')}` : '--clear-groups', '--'];
}

export function launchArgv(s: LaunchSpec): string[] {
  const lines = ['set -e', `printf '%s' ${shQuote(s.hostname)} > /proc/sys/kernel/hostname`];
  // Parents before children, so /run then /run/secrets/x works; a target inside an earlier volume is
  // created there (the host path was created before launch for targets outside volumes).
  const ordered = [...s.mounts].sort((a, b) => a.target.split('/').length - b.target.split('/').length);
  for (const m of ordered) {
    if (!m.isFile) lines.push(`[ -e ${shQuote(m.target)} ] || mkdir -p ${shQuote(m.target)}`);
    lines.push(`mount --bind ${shQuote(m.source)} ${shQuote(m.target)}`);
    if (m.readOnly) lines.push(`mount -o remount,bind,ro ${shQuote(m.target)}`);
  }
  lines.push(`cd ${shQuote(s.cwd)}`);
  lines.push(`exec ${[...userPrefix(s.user), ...s.argv].map(shQuote).join(' ')}`);
  return ['ip', 'netns', 'exec', s.netns, 'unshare', '--uts', '--', '/bin/sh', '-c', lines.join('\n')];
}

/** Runs argv inside a running container: its mount, network and UTS namespaces, working dir and user. */
export function enterArgv(pid: number, cwd: string, user: User, argv: readonly string[]): string[] {
  const script = `cd ${shQuote(cwd)} 2>/dev/null || cd /\nexec ${[...userPrefix(user), ...argv].map(shQuote).join(' ')}`;
  return ['nsenter', '-t', String(pid), '-m', '-n', '-u', '--', '/bin/sh', '-c', script];
}

/**
 * Container user: the container's securityContext over the pod's; group 0 when only a user is given;
 * supplementary groups from the pod's `supplementalGroups` (a pod-level field, as in Kubernetes).
 */
export function resolveUser(podSc: { runAsUser?: number; runAsGroup?: number; supplementalGroups?: readonly number[] } | undefined,
  cSc: { runAsUser?: number; runAsGroup?: number } | undefined): User {
  const groups = (podSc?.supplementalGroups ?? []).filter((g) => Number.isInteger(g) && g >= 0);
  return {
    uid: cSc?.runAsUser ?? podSc?.runAsUser ?? 0,
    gid: cSc?.runAsGroup ?? podSc?.runAsGroup ?? 0,
    ...(groups.length ? { groups } : {}),
  };
}
