// The registry: create / update / patch / get / delete with the semantics of apiserver's generic store
// (staging/src/k8s.io/apiserver/pkg/registry/generic/registry/store.go, Create and Update) and
// rest.BeforeCreate / rest.BeforeUpdate (pkg/registry/rest/create.go, update.go):
// - namespace from the URL fills an empty metadata.namespace; a different one is refused 400
//   (EnsureObjectNamespaceMatchesRequestNamespace); a cluster-scoped object's namespace is cleared;
// - writes into a namespace that does not exist are refused 404 (the NamespaceLifecycle admission plugin);
// - uid and creationTimestamp are set on create and carried over on update; generation is tracked for
//   kinds that have it;
// - create with a resourceVersion fails in storage ("resourceVersion should not be set on objects to be
//   created", a plain error → 500); create of an existing name → 409 AlreadyExists;
// - update: missing object → 404, or a create where the kind allows create-on-update; no resourceVersion
//   → the current one for kinds that allow unconditional updates, else 422 ("must be specified for an
//   update"); a different resourceVersion → 409 Conflict (OptimisticLockErrorMsg);
// - an update that changes nothing keeps the resourceVersion (etcd3 GuaranteedUpdate skips the write).
// managedFields are not tracked (skein-cp never reads them).
import { randomUUID } from 'node:crypto';
import { formatGoTime, goNow } from './go-time.js';
import { apiVersionOf, type Kind } from './kinds.js';
import {
  alreadyExists, badRequest, conflict, internalError, invalid, invalidObject, notFound, type FieldError,
} from './status.js';
import { ZERO_RESOURCE_VERSION, obj, str, type Obj } from './validate-meta.js';
import type { EventType } from './watch.js';

export interface WriteOptions {
  /** `dryRun=All`: every check, no write. */
  readonly dryRun: boolean;
}

export interface WriteResult { readonly object: Obj; readonly created: boolean }

/** A write the tests can count: which resource, which verb, which object. */
export interface WriteRecord { readonly resource: string; readonly verb: 'create' | 'update' | 'patch' | 'delete'; readonly namespace: string; readonly name: string }

/** JSON with sorted keys: Go's semantic equality of two decoded objects, whatever the key order. */
function canonical(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonical).join(',')}]`;
  if (v !== null && typeof v === 'object') {
    return `{${Object.keys(v).sort().map((k) => `${JSON.stringify(k)}:${canonical((v as Obj)[k])}`).join(',')}}`;
  }
  return JSON.stringify(v) ?? 'null';
}

const GENERATE_NAME_CHARS = 'bcdfghjklmnpqrstvwxz2456789';

export class Store {
  private readonly objects = new Map<string, Obj>();
  private rv = 0;
  readonly namespaces: Set<string>;
  readonly writes: WriteRecord[] = [];
  /** Told of every stored write with the object as stored (the watch caches, watch.ts). */
  listener: ((kind: Kind, type: EventType, object: Obj) => void) | undefined;

  constructor(namespaces: Iterable<string>) {
    this.namespaces = new Set(namespaces);
  }

  private key(kind: Kind, namespace: string, name: string): string {
    return `${kind.resource}/${kind.namespaced ? namespace : ''}/${name}`;
  }

  get(kind: Kind, namespace: string, name: string): Obj {
    const o = this.objects.get(this.key(kind, namespace, name));
    if (!o) throw notFound(kind, name);
    return structuredClone(o);
  }

  /** The stored object or undefined (for tests; no error). */
  peek(kind: Kind, namespace: string, name: string): Obj | undefined {
    const o = this.objects.get(this.key(kind, namespace, name));
    return o && structuredClone(o);
  }

  /** The objects of a kind, in one namespace or (namespace "") all of them. */
  list(kind: Kind, namespace: string): Obj[] {
    const prefix = namespace === '' ? `${kind.resource}/` : `${kind.resource}/${namespace}/`;
    return [...this.objects.entries()].filter(([k]) => k.startsWith(prefix)).map(([, o]) => structuredClone(o));
  }

  /** rest.EnsureObjectNamespaceMatchesRequestNamespace + NamespaceLifecycle. */
  private placeInNamespace(kind: Kind, namespace: string, meta: Obj): void {
    const requested = kind.namespaced ? namespace : '';
    const own = str(meta, 'namespace');
    if (requested === '') delete meta.namespace;
    else if (own === '') meta.namespace = requested;
    else if (own !== requested) throw badRequest('the namespace of the provided object does not match the namespace sent on the request');
    if (requested !== '' && !this.namespaces.has(requested)) throw notFound({ group: '', resource: 'namespaces' }, requested);
  }

  /** The newest resourceVersion (what a list answers with). */
  get resourceVersion(): number {
    return this.rv;
  }

  private isNamespaceKind(kind: Kind): boolean {
    return kind.group === '' && kind.kind === 'Namespace';
  }

  private nextVersion(): string {
    this.rv += 1;
    return String(this.rv);
  }

  private check(kind: Kind, name: string, errs: FieldError[]): void {
    if (errs.length > 0) throw invalidObject(kind, name, errs);
  }

  create(kind: Kind, namespace: string, body: Obj, opts: WriteOptions): WriteResult {
    const o = kind.defaults(structuredClone(body));
    const meta = obj(o, 'metadata') ?? {};
    o.metadata = meta;
    if (kind.status) {
      // PrepareForCreate: the status of a new object is the server's, whatever the client sent.
      const initial = kind.status.initial(o);
      if (initial === undefined) delete o.status;
      else o.status = initial;
    }
    this.placeInNamespace(kind, namespace, meta);
    if (str(meta, 'name') === '' && str(meta, 'generateName') !== '') {
      meta.name = str(meta, 'generateName') + Array.from({ length: 5 }, () => GENERATE_NAME_CHARS[Math.floor(Math.random() * GENERATE_NAME_CHARS.length)]).join('');
    }
    // BeforeCreate: system fields, then the strategy's Validate, then common ObjectMeta validation.
    const rv = str(meta, 'resourceVersion');
    meta.uid = randomUUID();
    meta.creationTimestamp = formatGoTime(goNow());
    delete meta.deletionTimestamp;
    delete meta.deletionGracePeriodSeconds;
    if (kind.specChanged) meta.generation = 1;
    o.apiVersion = apiVersionOf(kind);
    o.kind = kind.kind;
    this.check(kind, str(meta, 'name'), kind.validate(o));
    if (rv !== '') throw internalError('resourceVersion should not be set on objects to be created');
    const key = this.key(kind, str(meta, 'namespace'), str(meta, 'name'));
    if (this.objects.has(key)) throw alreadyExists(kind, str(meta, 'name'));
    // The registry's BeginCreate (Service: cluster IP allocation) runs after validation.
    if (kind.prepareForCreate) this.check(kind, str(meta, 'name'), kind.prepareForCreate(o, () => this.list(kind, '')));
    if (!opts.dryRun) {
      meta.resourceVersion = this.nextVersion();
      this.objects.set(key, structuredClone(o));
      this.writes.push({ resource: kind.resource, verb: 'create', namespace: str(meta, 'namespace'), name: str(meta, 'name') });
      if (this.isNamespaceKind(kind)) this.namespaces.add(str(meta, 'name'));
      this.listener?.(kind, 'ADDED', structuredClone(o));
    }
    return { object: o, created: true };
  }

  /**
   * PUT (and the second half of PATCH, with the patched object). `name` is the URL's; the handler has
   * already checked that the body names the same object (checkName).
   */
  update(kind: Kind, namespace: string, name: string, body: Obj, opts: WriteOptions, verb: 'update' | 'patch' = 'update', subresource?: 'status'): WriteResult {
    const key = this.key(kind, namespace, name);
    const existing = this.objects.get(key);
    if (!existing) {
      if (!kind.allowCreateOnUpdate) throw notFound(kind, name);
      // Create on update: store.go takes the create path; the resourceVersion in the body is not compared
      // (there is nothing to compare it with) and storage clears it.
      const meta = { ...(obj(body, 'metadata') ?? {}) };
      delete meta.resourceVersion;
      return this.create(kind, namespace, { ...body, metadata: meta }, opts);
    }
    let o = kind.defaults(structuredClone(body));
    let meta = obj(o, 'metadata') ?? {};
    o.metadata = meta;
    const oldMeta = obj(existing, 'metadata') ?? {};
    const rv = str(meta, 'resourceVersion');
    if (rv === '') {
      if (!kind.allowUnconditionalUpdate) {
        // store.go: "TODO: The Invalid error should have a field for Resource" — the kind is the resource.
        throw invalidObject({ group: kind.group, kind: kind.resource }, name,
          [invalid('metadata.resourceVersion', ZERO_RESOURCE_VERSION, 'must be specified for an update')]);
      }
      meta.resourceVersion = str(oldMeta, 'resourceVersion');
    } else if (!/^\d+$/.test(rv)) {
      throw internalError(`strconv.ParseUint: parsing ${JSON.stringify(rv)}: invalid syntax`);
    } else if (rv !== str(oldMeta, 'resourceVersion')) {
      throw conflict(kind, name);
    }
    // BeforeUpdate
    this.placeInNamespace(kind, namespace, meta);
    if (oldMeta.generation !== undefined) meta.generation = oldMeta.generation;
    if (str(meta, 'uid') === '') meta.uid = oldMeta.uid;
    meta.creationTimestamp = oldMeta.creationTimestamp;
    if (kind.status && subresource === 'status') {
      // .../status: only the status changes (the strategies' PrepareForUpdate copy the rest back).
      const written = obj(o, 'status') ?? {};
      const status = kind.status.normalise ? kind.status.normalise(written) : written;
      o = { ...structuredClone(existing), status };
      meta = { ...structuredClone(oldMeta), resourceVersion: meta.resourceVersion };
      o.metadata = meta;
    } else if (kind.status) {
      // The main resource ignores status changes.
      if (existing.status === undefined) delete o.status;
      else o.status = structuredClone(existing.status);
    }
    if (subresource !== 'status') kind.prepareForUpdate?.(o, existing);
    if (kind.specChanged?.(o, existing)) meta.generation = (typeof oldMeta.generation === 'number' ? oldMeta.generation : 0) + 1;
    o.apiVersion = apiVersionOf(kind);
    o.kind = kind.kind;
    this.check(kind, name, kind.status && subresource === 'status' ? kind.status.validateUpdate(o, existing) : kind.validateUpdate(o, existing));
    if (canonical(o) === canonical(existing)) return { object: structuredClone(existing), created: false };
    if (!opts.dryRun) {
      meta.resourceVersion = this.nextVersion();
      this.objects.set(key, structuredClone(o));
      this.writes.push({ resource: kind.resource, verb, namespace: kind.namespaced ? namespace : '', name });
      this.listener?.(kind, 'MODIFIED', structuredClone(o));
    }
    return { object: o, created: false };
  }

  delete(kind: Kind, namespace: string, name: string): Obj {
    const key = this.key(kind, namespace, name);
    const existing = this.objects.get(key);
    if (!existing) throw notFound(kind, name);
    this.objects.delete(key);
    this.writes.push({ resource: kind.resource, verb: 'delete', namespace: kind.namespaced ? namespace : '', name });
    if (this.isNamespaceKind(kind)) this.namespaces.delete(name);
    // etcd3's watcher: a DELETED event carries the last state at the revision of the delete.
    const gone = structuredClone(existing);
    gone.metadata = { ...(obj(gone, 'metadata') ?? {}), resourceVersion: this.nextVersion() };
    this.listener?.(kind, 'DELETED', gone);
    return existing;
  }
}
