// The mesh-wide settings from the Mesh named "default" (DESIGN.md "Custom resources"): mTLS mode,
// certificate lifetime, default action. No Mesh, or an absent field, gives the documented defaults
// (PERMISSIVE, 24h, Allow) so that a cluster without the CRD objects still works. A security field the
// CRD would not have admitted (skein-local stores objects unchecked: `mode: strict`, `defaultAction:
// deny`) never weakens the mesh: it reads as the strict value (STRICT, Deny).
import { parseGoDuration } from './duration.js';
import type { ClusterSource, ClusterState, MeshObject } from './types.js';

export const DEFAULT_CERT_TTL_SECONDS = 24 * 3600;
/** Below a minute a sidecar would spend its life renewing; beyond a year is not a workload certificate. */
export const MIN_CERT_TTL_SECONDS = 60;
export const MAX_CERT_TTL_SECONDS = 365 * 24 * 3600;

export interface MeshSettings {
  readonly mtlsMode: 'STRICT' | 'PERMISSIVE';
  readonly certTtlSeconds: number;
  readonly defaultAction: 'Allow' | 'Deny';
  readonly trustDomain: string;
}

/** The certificate lifetime in whole seconds, clamped to [1 min, 1 year]; undefined text → 24 h. */
export function certTtlSeconds(text: string | undefined): number {
  if (text === undefined || text === '') return DEFAULT_CERT_TTL_SECONDS;
  const ns = parseGoDuration(text);
  if (ns === undefined || !Number.isFinite(ns) || ns <= 0) return DEFAULT_CERT_TTL_SECONDS;
  return Math.min(MAX_CERT_TTL_SECONDS, Math.max(MIN_CERT_TTL_SECONDS, Math.floor(ns / 1e9)));
}

export function defaultMesh(state: ClusterState): MeshObject | undefined {
  return state.meshes.get('/default');
}

export function meshSettingsOf(state: ClusterState, trustDomain: string): MeshSettings {
  const spec = defaultMesh(state)?.spec;
  return {
    mtlsMode: spec?.mtls?.mode === undefined || spec.mtls.mode === 'PERMISSIVE' ? 'PERMISSIVE' : 'STRICT',
    certTtlSeconds: certTtlSeconds(spec?.mtls?.certTTL),
    defaultAction: spec?.defaultAction === undefined || spec.defaultAction === 'Allow' ? 'Allow' : 'Deny',
    trustDomain,
  };
}

export function meshSettingsFrom(source: ClusterSource, trustDomain: string): () => MeshSettings {
  return () => meshSettingsOf(source.state(), trustDomain);
}
