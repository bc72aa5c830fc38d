// Decoding a request body into a typed Kubernetes object, as kube-apiserver's JSON serializer does:
// sigs.k8s.io/json (a fork of Go's encoding/json: case-sensitive field names, unknown fields collected as
// "strict" errors instead of being silently dropped), into the Go structs of k8s.io/api. Only the parts
// of that behaviour skein-cp's objects can hit are modelled:
// - a JSON value of the wrong type fails the whole decode: `json: cannot unmarshal string into Go struct
//   field LeaseSpec.spec.leaseDurationSeconds of type int32` (encoding/json UnmarshalTypeError; the first
//   such error wins, decoding goes on to find unknown fields);
// - int32/int64 must be integral and in range (`cannot unmarshal number 1.5 into ...`);
// - metav1.Time / MicroTime go through their UnmarshalJSON (go-time.ts); its error is returned as is and
//   stops the decode at once (encoding/json returns an Unmarshaler's error immediately);
// - []byte (Secret data, caBundle) is base64.StdEncoding, error `illegal base64 data at input byte N`;
// - null leaves a field unset; a field name in another case ("HolderIdentity") is an unknown field.
// Not modelled: duplicate keys (JSON.parse keeps the last one silently, the real server reports
// `duplicate field`), and number literals like 1e3 for ints (JSON.parse cannot tell them from 1000).
import { formatGoMicroTime, formatGoTime, GoTimeParseError, parseGoTime, RFC3339, RFC3339_MICRO } from './go-time.js';

export type Schema =
  | { readonly t: 'string' }
  | { readonly t: 'bool' }
  | { readonly t: 'int32' }
  | { readonly t: 'int64' }
  | { readonly t: 'time' }
  | { readonly t: 'microTime' }
  | { readonly t: 'bytes' }
  | { readonly t: 'raw' }
  | { readonly t: 'map'; readonly of: Schema }
  | { readonly t: 'array'; readonly of: Schema }
  | { readonly t: 'struct'; readonly go: string; readonly fields: Readonly<Record<string, Schema>> };

export const S = {
  string: { t: 'string' } as const,
  bool: { t: 'bool' } as const,
  int32: { t: 'int32' } as const,
  int64: { t: 'int64' } as const,
  time: { t: 'time' } as const,
  microTime: { t: 'microTime' } as const,
  bytes: { t: 'bytes' } as const,
  raw: { t: 'raw' } as const,
  map: (of: Schema): Schema => ({ t: 'map', of }),
  array: (of: Schema): Schema => ({ t: 'array', of }),
  struct: (go: string, fields: Record<string, Schema>): Schema => ({ t: 'struct', go, fields }),
};

/** The decode failed: the message is what the real decoder says (the server wraps it in a 400). */
export class GoDecodeError extends Error {}

export interface Decoded {
  /** The object as the server would store and re-encode it (unknown fields dropped, times canonical). */
  readonly value: unknown;
  /** `unknown field "spec.foo"` for each unknown field (fieldValidation decides: Strict/Warn/Ignore). */
  readonly strict: readonly string[];
}

function goTypeName(s: Schema): string {
  switch (s.t) {
    case 'bytes': return '[]uint8';
    case 'time': return 'v1.Time';
    case 'microTime': return 'v1.MicroTime';
    case 'raw': return 'runtime.RawExtension';
    case 'map': return `map[string]${goTypeName(s.of)}`;
    case 'array': return `[]${goTypeName(s.of)}`;
    case 'struct': return s.go;
    default: return s.t;
  }
}

function jsonKind(v: unknown): string {
  if (typeof v === 'number') return 'number';
  if (typeof v === 'boolean') return 'bool';
  if (Array.isArray(v)) return 'array';
  return typeof v === 'string' ? 'string' : 'object';
}

/** base64.StdEncoding.Decode's accept/reject decision and error offset (decodeQuantum, non-strict). */
export function goBase64Error(src: string): string | undefined {
  const isAlpha = (c: string): boolean => /[A-Za-z0-9+/]/.test(c);
  const nl = (c: string | undefined): boolean => c === '\n' || c === '\r';
  const corrupt = (at: number): string => `illegal base64 data at input byte ${at}`;
  let si = 0;
  while (si < src.length) {
    for (let j = 0; j < 4; j += 1) {
      if (si === src.length) {
        if (j === 0) return undefined;
        return corrupt(si - j); // StdEncoding has padding: a short final quantum is an error
      }
      const c = src[si] ?? '';
      si += 1;
      if (isAlpha(c)) continue;
      if (nl(c)) { j -= 1; continue; }
      if (c !== '=') return corrupt(si - 1);
      if (j < 2) return corrupt(si - 1);
      if (j === 2) {
        while (si < src.length && nl(src[si])) si += 1;
        if (si === src.length) return corrupt(src.length);
        if (src[si] !== '=') return corrupt(si - 1);
        si += 1;
      }
      while (si < src.length && nl(src[si])) si += 1;
      return si < src.length ? corrupt(si) : undefined;
    }
  }
  return undefined;
}

class Decoder {
  firstTypeError: string | undefined;
  readonly strict: string[] = [];

  typeError(value: string, s: Schema, struct: string, field: string): void {
    if (this.firstTypeError !== undefined) return;
    this.firstTypeError = struct === ''
      ? `json: cannot unmarshal ${value} into Go value of type ${goTypeName(s)}`
      : `json: cannot unmarshal ${value} into Go struct field ${struct}.${field} of type ${goTypeName(s)}`;
  }

  /**
   * `fieldPath` is encoding/json's Field (dotted JSON names from the root, no indices); `strictPath` is
   * sigs.k8s.io/json's path for unknown fields (with [i] indices); `struct` the enclosing Go struct's name.
   */
  decode(v: unknown, s: Schema, struct: string, fieldPath: string, strictPath: string): unknown {
    if (v === null || v === undefined) return undefined;
    switch (s.t) {
      case 'string':
        if (typeof v !== 'string') { this.typeError(jsonKind(v), s, struct, fieldPath); return undefined; }
        return v;
      case 'bool':
        if (typeof v !== 'boolean') { this.typeError(jsonKind(v), s, struct, fieldPath); return undefined; }
        return v;
      case 'int32': case 'int64': {
        if (typeof v !== 'number') { this.typeError(jsonKind(v), s, struct, fieldPath); return undefined; }
        const limit = s.t === 'int32' ? 2 ** 31 : 2 ** 63;
        if (!Number.isInteger(v) || v >= limit || v < -limit) { this.typeError(`number ${String(v)}`, s, struct, fieldPath); return undefined; }
        return v;
      }
      case 'time': case 'microTime': {
        // The Unmarshaler first decodes a JSON string; anything else fails right there.
        if (typeof v !== 'string') throw new GoDecodeError(`json: cannot unmarshal ${jsonKind(v)} into Go value of type string`);
        try {
          const t = parseGoTime(s.t === 'time' ? RFC3339 : RFC3339_MICRO, v);
          return s.t === 'time' ? formatGoTime(t) : formatGoMicroTime(t);
        } catch (err) {
          if (err instanceof GoTimeParseError) throw new GoDecodeError(err.message);
          throw err;
        }
      }
      case 'bytes': {
        if (typeof v !== 'string') { this.typeError(jsonKind(v), s, struct, fieldPath); return undefined; }
        const e = goBase64Error(v);
        if (e !== undefined) { this.firstTypeError ??= e; return undefined; }
        return Buffer.from(v, 'base64').toString('base64');
      }
      case 'raw':
        return structuredClone(v);
      case 'map': {
        if (typeof v !== 'object' || Array.isArray(v)) { this.typeError(jsonKind(v), s, struct, fieldPath); return undefined; }
        const out: Record<string, unknown> = {};
        for (const [k, item] of Object.entries(v as Record<string, unknown>)) {
          const d = this.decode(item, s.of, struct, fieldPath, `${strictPath}[${k}]`);
          if (d !== undefined) out[k] = d;
        }
        return out;
      }
      case 'array': {
        if (!Array.isArray(v)) { this.typeError(jsonKind(v), s, struct, fieldPath); return undefined; }
        return v.map((item, i) => this.decode(item, s.of, struct, fieldPath, `${strictPath}[${i}]`) ?? null);
      }
      case 'struct': {
        if (typeof v !== 'object' || Array.isArray(v)) { this.typeError(jsonKind(v), s, struct, fieldPath); return undefined; }
        const out: Record<string, unknown> = {};
        const structName = s.go.replace(/^.*\./, '');
        for (const [k, item] of Object.entries(v as Record<string, unknown>)) {
          const fs = Object.hasOwn(s.fields, k) ? s.fields[k] : undefined;
          const sp = strictPath === '' ? k : `${strictPath}.${k}`;
          if (fs === undefined) { this.strict.push(`unknown field ${JSON.stringify(sp)}`); continue; }
          const d = this.decode(item, fs, structName, fieldPath === '' ? k : `${fieldPath}.${k}`, sp);
          if (d !== undefined) out[k] = d;
        }
        return out;
      }
    }
  }
}

/** Decodes a parsed JSON body against the kind's schema; throws GoDecodeError as the real decoder fails. */
export function decodeInto(body: unknown, schema: Schema): Decoded {
  const d = new Decoder();
  const value = d.decode(body, schema, '', '', '');
  if (d.firstTypeError !== undefined) throw new GoDecodeError(d.firstTypeError);
  return { value: value ?? {}, strict: d.strict };
}
