// ConfigMap and Secret contents as the API server validates and stores them and kubelet reads them:
// Secret `data` values are base64 of arbitrary bytes (`stringData` is UTF-8, merged into `data` on
// write and never stored); ConfigMap `data` is UTF-8 text and `binaryData` base64 bytes. Keys are
// config keys ([-._a-zA-Z0-9]+, at most 253 characters, not "." or ".." or starting with "..") and
// an object holds at most 1 MiB.
import { InvalidError } from '../errors.js';
import type { KubeObject } from '../model/types.js';

export interface KeyData {
  /** What a volume holds: every key's exact bytes (ConfigMap data as UTF-8 and binaryData; Secret data). */
  readonly files: ReadonlyMap<string, Buffer>;
  /** What env/envFrom can read: ConfigMap `data` only (kubelet ignores binaryData there); Secret `data`. */
  readonly env: ReadonlyMap<string, Buffer>;
}

type Strings = Record<string, string>;
interface KeyObjectFields { data?: Strings; stringData?: Strings; binaryData?: Strings }

/** Same limit as the API server (MaxSecretSize, and ConfigMaps alike). */
export const MAX_TOTAL_BYTES = 1024 * 1024;
const CONFIG_KEY = /^[-._a-zA-Z0-9]+$/;

/**
 * Validates a Secret or ConfigMap as the API server does, and returns what it stores: for a Secret,
 * `stringData` merged over `data` (base64-encoded) and removed. Throws InvalidError naming the object
 * and the key. Other kinds are returned unchanged.
 */
export function normaliseKeyObject<T extends KubeObject>(o: T): T {
  if (o.kind !== 'Secret' && o.kind !== 'ConfigMap') return o;
  const obj = o as T & KeyObjectFields;
  const what = `${o.kind} "${o.metadata.namespace ?? 'default'}/${o.metadata.name}"`;
  const fail = (field: string, msg: string): never => { throw new InvalidError(`${what} is invalid: ${field}: ${msg}`); };
  const map = (field: 'data' | 'stringData' | 'binaryData'): Strings => {
    const m = obj[field] ?? {};
    if (typeof m !== 'object' || Array.isArray(m)) fail(field, 'must be a map of key to string');
    for (const [k, v] of Object.entries(m)) {
      checkKey(k, (msg) => fail(`${field}[${JSON.stringify(k)}]`, msg));
      if (typeof v !== 'string') fail(`${field}[${JSON.stringify(k)}]`, `value must be a string, not ${v === null ? 'null' : typeof v}`);
    }
    return m;
  };
  let total = 0;
  if (o.kind === 'Secret') {
    const data = map('data');
    const stringData = map('stringData');
    const merged: Strings = {};
    for (const [k, v] of Object.entries(data)) {
      const bad = base64Problem(v);
      if (bad) fail(`data[${JSON.stringify(k)}]`, `value is not valid base64 (${bad}): encode the bytes with base64, or put text under stringData`);
      merged[k] = v;
    }
    for (const [k, v] of Object.entries(stringData)) merged[k] = Buffer.from(v, 'utf8').toString('base64');
    for (const v of Object.values(merged)) total += Buffer.from(v, 'base64').length;
    if (total > MAX_TOTAL_BYTES) fail('data', `Too long: must have at most ${MAX_TOTAL_BYTES} bytes (has ${total})`);
    const out = { ...obj, data: merged } as T & KeyObjectFields;
    delete out.stringData;
    if (Object.keys(merged).length === 0) delete out.data;
    (out as { type?: string }).type ??= 'Opaque';
    return out;
  }
  const data = map('data');
  const binaryData = map('binaryData');
  if (obj.stringData !== undefined) fail('stringData', 'a ConfigMap has no stringData (use data)');
  for (const [k, v] of Object.entries(binaryData)) {
    if (k in data) fail(`binaryData[${JSON.stringify(k)}]`, 'duplicate of key present in data');
    const bad = base64Problem(v);
    if (bad) fail(`binaryData[${JSON.stringify(k)}]`, `value is not valid base64 (${bad})`);
    total += Buffer.from(v, 'base64').length;
  }
  for (const v of Object.values(data)) total += Buffer.byteLength(v, 'utf8');
  if (total > MAX_TOTAL_BYTES) fail('data', `Too long: must have at most ${MAX_TOTAL_BYTES} bytes (has ${total})`);
  return o;
}

/** The bytes of a stored Secret or ConfigMap, for volumes and env. */
export function keyDataOf(o: KubeObject): KeyData {
  const obj = o as KubeObject & KeyObjectFields;
  if (o.kind === 'Secret') {
    const bytes = new Map<string, Buffer>();
    for (const [k, v] of Object.entries(obj.data ?? {})) bytes.set(k, Buffer.from(v, 'base64'));
    // Objects are normalised on apply; stringData is honoured here too for objects written by other means.
    for (const [k, v] of Object.entries(obj.stringData ?? {})) bytes.set(k, Buffer.from(v, 'utf8'));
    return { files: bytes, env: bytes };
  }
  const env = new Map<string, Buffer>();
  for (const [k, v] of Object.entries(obj.data ?? {})) env.set(k, Buffer.from(v, 'utf8'));
  const files = new Map(env);
  for (const [k, v] of Object.entries(obj.binaryData ?? {})) files.set(k, Buffer.from(v, 'base64'));
  return { files, env };
}

function checkKey(k: string, fail: (msg: string) => never): void {
  if (k.length === 0) fail('a config key must not be empty');
  if (k.length > 253) fail(`a config key must be at most 253 characters (has ${k.length})`);
  if (!CONFIG_KEY.test(k)) {
    fail(`Invalid value: ${JSON.stringify(k)}: a valid config key must consist of alphanumeric characters, '-', '_' or '.' (e.g. 'key.name', or 'KEY_NAME', or 'key-name', regex used for validation is '[-._a-zA-Z0-9]+')`);
  }
  if (k === '.' || k === '..') fail(`Invalid value: ${JSON.stringify(k)}: must not be '${k}'`);
  if (k.startsWith('..')) fail(`Invalid value: ${JSON.stringify(k)}: must not start with '..'`);
}

/**
 * Why a string is not standard padded base64 as Go's encoding/json decodes []byte (StdEncoding, which
 * skips \r and \n); undefined when it is.
 */
export function base64Problem(s: string): string | undefined {
  let n = 0;
  let pad = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s[i]!;
    if (c === '\r' || c === '\n') continue;
    if (c === '=') { pad++; n++; continue; }
    if (pad > 0 || !/[A-Za-z0-9+/]/.test(c)) return `illegal base64 data at input byte ${i}`;
    n++;
  }
  if (n % 4 !== 0 || pad > 2) return `length ${n} is not a padded multiple of 4`;
  return undefined;
}
