// The mutable cluster state both sources keep: six maps, a version that bumps on every effective
// change, and change listeners. An object replaced by one with the same resourceVersion is no change.
import type { ClusterState, KindName } from './types.js';

interface Meta { metadata?: { resourceVersion?: string } }

export class MutableClusterState {
  private readonly maps = {
    pods: new Map(), services: new Map(), endpointSlices: new Map(), namespaces: new Map(), meshes: new Map(), trafficPermissions: new Map(),
  } as Record<KindName, Map<string, unknown>>;
  private ver = 0;
  private readonly counts: Partial<Record<KindName, number>> = {};
  private readonly listeners = new Set<() => void>();

  view(): ClusterState {
    const m = this.maps;
    return {
      pods: m.pods, services: m.services, endpointSlices: m.endpointSlices, namespaces: m.namespaces, meshes: m.meshes,
      trafficPermissions: m.trafficPermissions,
      version: this.ver,
    } as ClusterState;
  }

  /** Stores `object` under `key`; true when it changed something. */
  set(kind: KindName, key: string, object: Meta): boolean {
    const map = this.maps[kind];
    const prev = map.get(key) as Meta | undefined;
    const rv = object.metadata?.resourceVersion;
    if (prev !== undefined && rv !== undefined && prev.metadata?.resourceVersion === rv) return false;
    map.set(key, object);
    this.bump(kind);
    return true;
  }

  delete(kind: KindName, key: string): boolean {
    if (!this.maps[kind].delete(key)) return false;
    this.bump(kind);
    return true;
  }

  private bump(kind: KindName): void {
    this.ver += 1;
    this.counts[kind] = (this.counts[kind] ?? 0) + 1;
  }

  /** Effective changes so far, by kind (skein_cp_informer_events_total). */
  eventCounts(): Readonly<Partial<Record<KindName, number>>> {
    return this.counts;
  }

  keys(kind: KindName): string[] {
    return [...this.maps[kind].keys()];
  }

  onChange(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Tells the listeners (a listener that throws does not stop the others). */
  notify(onError: (err: unknown) => void): void {
    for (const l of [...this.listeners]) {
      try {
        l();
      } catch (err) {
        onError(err);
      }
    }
  }
}
