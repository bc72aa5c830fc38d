// The kinds skein-local serves: names, aliases, API versions and scope.
import { ManifestError } from '../errors.js';

export interface KindInfo {
  readonly kind: string;
  readonly apiVersions: readonly string[];
  readonly namespaced: boolean;
  /** Lower-case names accepted on the command line (`get svc`). */
  readonly aliases: readonly string[];
}

export const KINDS: readonly KindInfo[] = [
  { kind: 'Namespace', apiVersions: ['v1'], namespaced: false, aliases: ['namespace', 'namespaces', 'ns'] },
  { kind: 'Pod', apiVersions: ['v1'], namespaced: true, aliases: ['pod', 'pods', 'po'] },
  { kind: 'Deployment', apiVersions: ['apps/v1'], namespaced: true, aliases: ['deployment', 'deployments', 'deploy'] },
  { kind: 'Service', apiVersions: ['v1'], namespaced: true, aliases: ['service', 'services', 'svc'] },
  { kind: 'EndpointSlice', apiVersions: ['discovery.k8s.io/v1'], namespaced: true, aliases: ['endpointslice', 'endpointslices'] },
  { kind: 'ServiceAccount', apiVersions: ['v1'], namespaced: true, aliases: ['serviceaccount', 'serviceaccounts', 'sa'] },
  { kind: 'ConfigMap', apiVersions: ['v1'], namespaced: true, aliases: ['configmap', 'configmaps', 'cm'] },
  { kind: 'Secret', apiVersions: ['v1'], namespaced: true, aliases: ['secret', 'secrets'] },
  { kind: 'Mesh', apiVersions: ['skein.io/v1alpha1'], namespaced: false, aliases: ['mesh', 'meshes'] },
  { kind: 'TrafficPermission', apiVersions: ['skein.io/v1alpha1'], namespaced: true, aliases: ['trafficpermission', 'trafficpermissions', 'tp'] },
];

export function kindInfo(kind: string): KindInfo | undefined {
  return KINDS.find((k) => k.kind === kind);
}

/** Resolves a command-line kind (`pods`, `svc`, `Deployment`) or throws naming the kinds served. */
export function kindFromArg(arg: string): KindInfo {
  const a = arg.toLowerCase().split('.')[0]!;
  const k = KINDS.find((x) => x.aliases.includes(a));
  if (!k) throw new ManifestError(`unknown kind "${arg}": skein-local serves ${KINDS.map((x) => x.kind).join(', ')}`);
  return k;
}
