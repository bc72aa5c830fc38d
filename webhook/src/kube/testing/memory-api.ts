// Test support (not a test file): an in-memory API server behind the KubeIo interface, for the loops of
// leader.ts and tls-sync.ts. There is no Kubernetes API server on the development machine; this keeps the
// semantics the loops rely on: 404 → undefined, create of an existing object → 409, a write with a stale
// resourceVersion → 409, and JSON patches of the webhook configuration applied with `test` ops enforced.
import fjp from 'fast-json-patch';
import type { KubeIo, LeaseRead, SecretRead } from '../client.js';
import type { PatchOp, WebhookView } from '../cabundle.js';
import type { LeaseSpecView } from '../lease.js';
import type { VersionInfoLike } from '../version.js';

interface Stored<T> { value: T; resourceVersion: string }

/** What client-node throws for an HTTP error: ApiException with a numeric `code`. */
class ApiError extends Error {
  constructor(readonly code: number, message: string) { super(message); }
}

export interface MwcDoc { webhooks: Array<{ name: string; clientConfig?: { caBundle?: string; service?: object } }> }

export class MemoryApi implements KubeIo {
  readonly secrets = new Map<string, Stored<Record<string, string>>>();
  readonly leases = new Map<string, Stored<LeaseSpecView>>();
  readonly webhookConfigs = new Map<string, MwcDoc>();
  /** Counts writes by kind, so a test can tell that only one replica wrote. */
  readonly writes = { secret: 0, lease: 0, webhooks: 0 };
  private rv = 0;

  constructor(private readonly version: VersionInfoLike = { major: '1', minor: '30', gitVersion: 'v1.30.0' }) {}

  private next(): string { this.rv += 1; return String(this.rv); }

  private put<T>(map: Map<string, Stored<T>>, key: string, value: T, rv: string | undefined, create: boolean): void {
    const current = map.get(key);
    if (create && current) throw new ApiError(409, `${key} already exists`);
    if (!create && !current) throw new ApiError(404, `${key} not found`);
    if (!create && rv !== undefined && rv !== current?.resourceVersion) throw new ApiError(409, `${key}: resourceVersion ${rv} is stale`);
    map.set(key, { value: structuredClone(value), resourceVersion: this.next() });
  }

  serverVersion = async (): Promise<VersionInfoLike> => this.version;

  readSecret = async (ns: string, name: string): Promise<SecretRead | undefined> => {
    const s = this.secrets.get(`${ns}/${name}`);
    return s && { data: structuredClone(s.value), resourceVersion: s.resourceVersion };
  };
  createSecret = async (ns: string, name: string, _type: string, data: Record<string, string>): Promise<void> => {
    this.put(this.secrets, `${ns}/${name}`, data, undefined, true);
    this.writes.secret += 1;
  };
  replaceSecret = async (ns: string, name: string, _type: string, data: Record<string, string>, rv: string | undefined): Promise<void> => {
    this.put(this.secrets, `${ns}/${name}`, data, rv, false);
    this.writes.secret += 1;
  };

  readWebhooks = async (name: string): Promise<WebhookView[] | undefined> => structuredClone(this.webhookConfigs.get(name)?.webhooks);
  patchWebhooks = async (name: string, ops: readonly PatchOp[]): Promise<void> => {
    const doc = this.webhookConfigs.get(name);
    if (!doc) throw new ApiError(404, `${name} not found`);
    try {
      // validate + test ops: a failed `test` throws, as the API server answers 422.
      this.webhookConfigs.set(name, fjp.applyPatch(structuredClone(doc), structuredClone(ops) as fjp.Operation[], true, false).newDocument);
    } catch (err) {
      throw new ApiError(422, (err as Error).message);
    }
    this.writes.webhooks += 1;
  };

  readLease = async (ns: string, name: string): Promise<LeaseRead | undefined> => {
    const l = this.leases.get(`${ns}/${name}`);
    return l && { spec: structuredClone(l.value), resourceVersion: l.resourceVersion };
  };
  createLease = async (ns: string, name: string, spec: LeaseSpecView): Promise<void> => {
    this.put(this.leases, `${ns}/${name}`, spec, undefined, true);
    this.writes.lease += 1;
  };
  replaceLease = async (ns: string, name: string, spec: LeaseSpecView, rv: string | undefined): Promise<void> => {
    this.put(this.leases, `${ns}/${name}`, spec, rv, false);
    this.writes.lease += 1;
  };
}
