// Builds the injected pod in two stages, without touching the input (copy on write: untouched subtrees are
// shared with the input, so diffing old and new JSON stays cheap and exact):
//   1. in place  — fields of existing objects change: probes rewritten, annotations added;
//   2. insertion — containers and volumes added to the lists.
// The admission layer diffs input→stage 1 and stage 1→stage 2, so list insertions come out as `add`
// operations at an index instead of a rewrite of existing list items (reliability.md §4).
import type { V1Container, V1Pod } from '@kubernetes/client-node';
import type { MeshOptions } from './annotations.js';
import { ANNOTATION_DEFAULT_CONTAINER, ANNOTATION_INJECTED, ANNOTATION_ORIGINAL_PROBES } from './constants.js';
import type { InjectorConfig } from './config.js';
import { initContainer, meshVolumes, proxyContainer } from './containers.js';
import { rewriteProbes, type OriginalProbes } from './probes.js';

export interface Mutation {
  /** Stage 1: the input with probes rewritten and annotations added, lists of the same length. */
  inPlace: V1Pod;
  /** Stage 2: the injected pod. */
  pod: V1Pod;
}

type ProbeMap = Record<string, OriginalProbes>;

function rewriteAll(containers: V1Container[], originals: ProbeMap, eligible: (c: V1Container) => boolean): V1Container[] {
  let changed = false;
  const out = containers.map((c) => {
    if (!eligible(c)) return c;
    const r = rewriteProbes(c);
    if (r.originals === undefined) return c;
    originals[c.name] = r.originals;
    changed = true;
    return r.container;
  });
  return changed ? out : containers;
}

function stageInPlace(pod: V1Pod, cfg: InjectorConfig, opts: MeshOptions): V1Pod {
  const spec = pod.spec!;
  const originals: ProbeMap = {};
  const containers = rewriteAll(spec.containers, originals, () => true);
  // A user's native sidecar (init container, restartPolicy Always) is probed too. Only in native mode: there
  // skein-proxy starts before it; in non-native mode skein-proxy starts after all init containers, so a
  // rewritten startup probe of an init container would wait for it forever.
  const initContainers = spec.initContainers === undefined || !opts.nativeSidecar
    ? spec.initContainers
    : rewriteAll(spec.initContainers, originals, (c) => c.restartPolicy === 'Always');
  const newSpec = { ...spec, containers };
  if (initContainers !== undefined) newSpec.initContainers = initContainers;
  // Always written (also as {}), so the sidecar's SKEIN_ORIGINAL_PROBES is valid JSON in every pod.
  // kubectl logs/exec without -c should reach the app, not the sidecar placed first (Istio and Kuma do the same);
  // a default the user chose is kept.
  const annotations = {
    [ANNOTATION_DEFAULT_CONTAINER]: spec.containers[0]!.name,
    ...pod.metadata?.annotations,
    [ANNOTATION_INJECTED]: cfg.version,
    [ANNOTATION_ORIGINAL_PROBES]: JSON.stringify(originals),
  };
  return { ...pod, metadata: { ...pod.metadata, annotations }, spec: newSpec };
}

function stageInsert(pod: V1Pod, cfg: InjectorConfig, opts: MeshOptions): V1Pod {
  const spec = pod.spec!;
  const init = initContainer(cfg, opts);
  const proxy = proxyContainer(cfg, opts);
  const userInit = spec.initContainers ?? [];
  const newSpec = opts.nativeSidecar
    // skein-init first (the rules exist before anything talks), then the proxy, then the user's init containers,
    // which so already run inside the mesh.
    ? { ...spec, initContainers: [init, proxy, ...userInit] }
    // skein-init last among init containers, so the user's init containers keep plain network (nothing would
    // serve the captured ports yet); the proxy first among containers, so its postStart hook runs first.
    : { ...spec, initContainers: [...userInit, init], containers: [proxy, ...spec.containers] };
  newSpec.volumes = [...(spec.volumes ?? []), ...meshVolumes()];
  return { ...pod, spec: newSpec };
}

export function mutatePod(pod: V1Pod, cfg: InjectorConfig, opts: MeshOptions): Mutation {
  const inPlace = stageInPlace(pod, cfg, opts);
  return { inPlace, pod: stageInsert(inPlace, cfg, opts) };
}
