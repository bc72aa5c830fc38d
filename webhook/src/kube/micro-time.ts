// metav1.MicroTime on the wire (Lease spec.acquireTime / spec.renewTime). The API server decodes it with
// time.Parse(RFC3339Micro, s), RFC3339Micro = "2006-01-02T15:04:05.000000Z07:00" (apimachinery
// pkg/apis/meta/v1/micro_time.go, UnmarshalJSON): exactly six fractional digits, or the write is refused
// with 400. A JS Date has milliseconds, so the last three digits are always 000.
//
// Why this module exists: @kubernetes/client-node serialises a plain Date with toISOString() (three
// digits: refused), and its deserialiser leaves a V1MicroTime field as the JSON string it received (its
// ObjectSerializer has no V1MicroTime entry), so a read hands back a string, not a Date.

const WIRE = /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})(?:[.,](\d+))?(Z|[+-]\d{2}:\d{2})$/;

/** A Date as MicroTime text: `2026-12-04T03:13:05.646000Z`. Throws on an invalid Date (nothing valid to write). */
export function formatMicroTime(d: Date): string {
  if (Number.isNaN(d.getTime())) throw new RangeError('cannot write an invalid Date as a MicroTime');
  const iso = d.toISOString(); // always UTC, three fractional digits
  return `${iso.slice(0, -1)}000Z`;
}

/**
 * A MicroTime as read back through client-node (a string, or a Date should a later version convert it):
 * the instant, truncated to milliseconds. Anything else (null, garbage) reads as absent: the lease logic
 * then treats the field as unset rather than crashing on `.getTime()` of a string.
 */
export function parseMicroTime(v: unknown): Date | undefined {
  if (v instanceof Date) return Number.isNaN(v.getTime()) ? undefined : new Date(v.getTime());
  if (typeof v !== 'string') return undefined;
  const m = WIRE.exec(v);
  if (!m) return undefined;
  const ms = (m[2] ?? '').padEnd(3, '0').slice(0, 3);
  const t = Date.parse(`${m[1] ?? ''}.${ms}${m[3] ?? ''}`);
  return Number.isNaN(t) ? undefined : new Date(t);
}
