// "Is this API server new enough for native sidecars?" — pure, from the discovery API's /version answer.
// Managed clusters report odd minors ("29+" on GKE/EKS), so the minor is read leniently and gitVersion
// ("v1.29.3-eks-abc") is the fallback.
import type { NativeSidecarSetting } from '../config/index.js';

export interface KubeVersion {
  readonly major: number;
  readonly minor: number;
}

/** The first Kubernetes minor with SidecarContainers on by default (beta, 1.29). */
export const NATIVE_SIDECAR_MIN: KubeVersion = { major: 1, minor: 29 };

export interface VersionInfoLike {
  readonly major?: string;
  readonly minor?: string;
  readonly gitVersion?: string;
}

export function parseKubeVersion(info: VersionInfoLike): KubeVersion | undefined {
  const major = leadingInt(info.major);
  const minor = leadingInt(info.minor);
  if (major !== undefined && minor !== undefined) return { major, minor };
  const m = /^v?(\d+)\.(\d+)/.exec(info.gitVersion ?? '');
  if (m?.[1] !== undefined && m[2] !== undefined) return { major: Number(m[1]), minor: Number(m[2]) };
  return undefined;
}

function leadingInt(s: string | undefined): number | undefined {
  const m = /^(\d+)/.exec(s ?? '');
  return m?.[1] === undefined ? undefined : Number(m[1]);
}

export function compareVersions(a: KubeVersion, b: KubeVersion): number {
  return a.major !== b.major ? a.major - b.major : a.minor - b.minor;
}

export function supportsNativeSidecar(v: KubeVersion): boolean {
  return compareVersions(v, NATIVE_SIDECAR_MIN) >= 0;
}

/**
 * The injector's default. `auto` with an unknown version (API server unreachable, unparseable answer)
 * means classic sidecars: they work on every version, while a native sidecar on an old API server would
 * lose its `restartPolicy: Always` (unknown field) and become an init container that never exits: the pod would never start.
 */
export function resolveNativeSidecar(setting: NativeSidecarSetting, version: KubeVersion | undefined): boolean {
  if (setting === 'true') return true;
  if (setting === 'false') return false;
  return version !== undefined && supportsNativeSidecar(version);
}

/**
 * The default for run-to-completion pods (Jobs, CronJobs). A classic sidecar never exits, so such a pod never
 * completes; a native one is their only way to finish. So `auto` with an unknown version still chooses native
 * for them, and only an explicit `false` or an API server known to be older than 1.29 (where a native sidecar
 * would block the pod from starting at all) gives them the classic sidecar.
 */
export function resolveNativeSidecarRunToCompletion(setting: NativeSidecarSetting, version: KubeVersion | undefined): boolean {
  if (setting === 'true') return true;
  if (setting === 'false') return false;
  return version === undefined || supportsNativeSidecar(version);
}
