// The object store: what an API server would hold. In memory in the daemon, mirrored to
// <state>/store/<Kind>/<namespace>/<name>.json so that other tools (and a later skein-cp) can read it.
import { randomUUID } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { KubeObject } from '../model/types.js';
import { kindInfo } from './kinds.js';

export type StoreEvent = { type: 'put' | 'delete'; object: KubeObject };

export function objectKey(kind: string, namespace: string | undefined, name: string): string {
  return `${kind}/${namespace ?? ''}/${name}`;
}

export class Store extends EventEmitter<{ change: [StoreEvent] }> {
  private readonly objects = new Map<string, KubeObject>();
  private version = 0;

  constructor(private readonly dir?: string) {
    super();
  }

  /** Loads what a previous daemon persisted (used when the daemon restarts on the same state dir). */
  load(): void {
    if (!this.dir) return;
    let kinds: string[] = [];
    try { kinds = readdirSync(this.dir); } catch { return; }
    for (const kind of kinds) {
      for (const ns of readdirSync(join(this.dir, kind))) {
        for (const f of readdirSync(join(this.dir, kind, ns))) {
          const obj = JSON.parse(readFileSync(join(this.dir, kind, ns, f), 'utf8')) as KubeObject;
          this.objects.set(objectKey(obj.kind, obj.metadata.namespace, obj.metadata.name!), obj);
          this.version = Math.max(this.version, Number(obj.metadata.resourceVersion ?? 0));
        }
      }
    }
  }

  get<T extends KubeObject = KubeObject>(kind: string, namespace: string | undefined, name: string): T | undefined {
    return this.objects.get(objectKey(kind, this.ns(kind, namespace), name)) as T | undefined;
  }

  list<T extends KubeObject = KubeObject>(kind: string, namespace?: string): T[] {
    const out: T[] = [];
    for (const o of this.objects.values()) {
      if (o.kind === kind && (namespace === undefined || o.metadata.namespace === namespace)) out.push(o as T);
    }
    return out.sort((a, b) => `${a.metadata.namespace}/${a.metadata.name}`.localeCompare(`${b.metadata.namespace}/${b.metadata.name}`));
  }

  /**
   * Creates or replaces an object. Server-owned fields (uid, creationTimestamp) survive a replace;
   * resourceVersion advances. Returns the stored object and whether it was created.
   */
  put<T extends KubeObject>(obj: T): { object: T; created: boolean } {
    const kind = obj.kind;
    const ns = this.ns(kind, obj.metadata.namespace);
    const key = objectKey(kind, ns, obj.metadata.name!);
    const prev = this.objects.get(key);
    const stored = structuredClone(obj);
    stored.metadata.namespace = ns;
    if (ns === undefined) delete stored.metadata.namespace;
    stored.metadata.uid = prev?.metadata.uid ?? stored.metadata.uid ?? randomUUID();
    stored.metadata.creationTimestamp = prev?.metadata.creationTimestamp ?? new Date().toISOString().replace(/\.\d+Z$/, 'Z');
    stored.metadata.resourceVersion = String(++this.version);
    this.objects.set(key, stored);
    this.persist(stored);
    this.emit('change', { type: 'put', object: stored });
    return { object: stored, created: !prev };
  }

  delete(kind: string, namespace: string | undefined, name: string): KubeObject | undefined {
    const key = objectKey(kind, this.ns(kind, namespace), name);
    const prev = this.objects.get(key);
    if (!prev) return undefined;
    this.objects.delete(key);
    if (this.dir) rmSync(this.file(prev), { force: true });
    this.emit('change', { type: 'delete', object: prev });
    return prev;
  }

  private ns(kind: string, namespace: string | undefined): string | undefined {
    return kindInfo(kind)?.namespaced === false ? undefined : (namespace ?? 'default');
  }

  private file(o: KubeObject): string {
    return join(this.dir!, o.kind, o.metadata.namespace ?? '_cluster', `${o.metadata.name}.json`);
  }

  private persist(o: KubeObject): void {
    if (!this.dir) return;
    const f = this.file(o);
    mkdirSync(join(f, '..'), { recursive: true });
    writeFileSync(`${f}.tmp`, JSON.stringify(o, null, 2));
    renameSync(`${f}.tmp`, f);
  }
}
