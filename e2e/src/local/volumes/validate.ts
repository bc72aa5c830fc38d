// What the API server checks in a pod's volumes before kubelet ever sees them (pkg/apis/core/validation:
// validateVolumes — names are DNS-1123 labels, unique; validateLocalDescendingPath — items paths,
// projected token paths and subPath are relative and have no ".." element). skein-local builds host paths
// from these strings (<pod>/volumes/<name>/<path>), so without the checks a volume named "../../etc" with
// `emptyDir: {medium: Memory}` mounted a tmpfs over the host's /etc.
import { InvalidError } from '../errors.js';
import type { Pod, Volume } from '../model/types.js';

const DNS1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

/** Why `path` is not a local descending path, or undefined when it is one. */
function descendingPathProblem(path: string): string | undefined {
  if (path === '') return 'must not be empty';
  if (path.startsWith('/')) return 'must be a relative path';
  if (path.split(/[\\/]/).includes('..')) return "must not contain '..'";
  return undefined;
}

function volumePaths(v: Volume): Array<[string, string]> {
  const out: Array<[string, string]> = [];
  const add = (field: string, items: Array<{ path: string }> | undefined): void => {
    (items ?? []).forEach((it, i) => out.push([`${field}.items[${i}].path`, it.path]));
  };
  add('configMap', v.configMap?.items);
  add('secret', v.secret?.items);
  add('downwardAPI', v.downwardAPI?.items);
  (v.projected?.sources ?? []).forEach((s, i) => {
    const at = `projected.sources[${i}]`;
    add(`${at}.configMap`, s.configMap?.items);
    add(`${at}.secret`, s.secret?.items);
    add(`${at}.downwardAPI`, s.downwardAPI?.items);
    if (s.serviceAccountToken) out.push([`${at}.serviceAccountToken.path`, s.serviceAccountToken.path]);
  });
  return out;
}

/** Refuses, at apply time, volume names and paths the API server refuses, naming the pod and the field. */
export function validateVolumes(pod: Pod): void {
  const where = `pod ${pod.metadata.name ?? pod.metadata.generateName ?? ''}`;
  const seen = new Set<string>();
  for (const v of pod.spec.volumes ?? []) {
    if (v.name.length > 63 || !DNS1123_LABEL.test(v.name)) {
      throw new InvalidError(`${where}: volume name "${v.name}" is not a DNS-1123 label (lower-case letters, digits and '-', at most 63): rename it`);
    }
    if (seen.has(v.name)) throw new InvalidError(`${where}: volume name "${v.name}" is used twice: rename one of them`);
    seen.add(v.name);
    for (const [field, path] of volumePaths(v)) {
      const problem = descendingPathProblem(path);
      if (problem) throw new InvalidError(`${where}: volume "${v.name}": ${field} "${path}" ${problem}`);
    }
  }
  for (const c of [...(pod.spec.initContainers ?? []), ...pod.spec.containers]) {
    for (const m of c.volumeMounts ?? []) {
      const problem = m.subPath ? descendingPathProblem(m.subPath) : undefined;
      if (problem) throw new InvalidError(`${where}, container ${c.name}: volumeMount "${m.name}" subPath "${m.subPath}" ${problem}`);
    }
  }
}
