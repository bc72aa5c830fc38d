// The two grpc.health.v1 messages, encoded by hand (they are one field each, so no .proto is loaded):
// HealthCheckRequest { string service = 1; }  HealthCheckResponse { ServingStatus status = 1; }.
// Used by the kubelet-side gRPC probe and by the test fixture server.

/** grpc.health.v1.HealthCheckResponse.ServingStatus, by wire value. */
export const SERVING_STATUS = ['UNKNOWN', 'SERVING', 'NOT_SERVING', 'SERVICE_UNKNOWN'] as const;
export type ServingStatusName = (typeof SERVING_STATUS)[number];
export const SERVING = 1;

export function encodeHealthRequest(service: string): Buffer {
  return stringField(1, service);
}

export function decodeHealthRequest(buf: Buffer): string {
  let service = '';
  for (const f of fields(buf)) if (f.field === 1 && Buffer.isBuffer(f.value)) service = f.value.toString('utf8');
  return service;
}

export function encodeHealthResponse(status: number): Buffer {
  return status === 0 ? Buffer.alloc(0) : Buffer.concat([Buffer.from([0x08]), varint(status)]);
}

/** The status field of a HealthCheckResponse; absent means UNKNOWN (0), unknown fields are skipped. */
export function decodeHealthStatus(buf: Buffer): number {
  let status = 0;
  for (const f of fields(buf)) if (f.field === 1 && typeof f.value === 'number') status = f.value;
  return status;
}

export function statusName(status: number): string {
  return SERVING_STATUS[status] ?? `status ${status}`;
}

function stringField(field: number, s: string): Buffer {
  const bytes = Buffer.from(s, 'utf8');
  return bytes.length === 0 ? Buffer.alloc(0) : Buffer.concat([varint(field * 8 + 2), varint(bytes.length), bytes]);
}

function varint(n: number): Buffer {
  const out: number[] = [];
  let v = n;
  while (v >= 0x80) { out.push((v % 0x80) | 0x80); v = Math.floor(v / 0x80); }
  out.push(v);
  return Buffer.from(out);
}

/** Protobuf wire fields: varints as numbers, length-delimited as buffers; fixed32/64 skipped. */
function* fields(buf: Buffer): Generator<{ field: number; value: number | Buffer }> {
  let i = 0;
  const readVarint = (): number => {
    let value = 0;
    for (let shift = 0; ; shift += 7) {
      if (i >= buf.length) throw new Error('truncated protobuf varint');
      if (shift > 63) throw new Error('protobuf varint longer than 10 bytes');
      const b = buf[i++]!;
      value += (b & 0x7f) * 2 ** shift;
      if ((b & 0x80) === 0) return value;
    }
  };
  while (i < buf.length) {
    const key = readVarint();
    const field = Math.floor(key / 8);
    switch (key & 7) {
      case 0: yield { field, value: readVarint() }; break;
      case 1: i += 8; break;
      case 2: {
        const len = readVarint();
        if (i + len > buf.length) throw new Error('truncated protobuf field');
        yield { field, value: buf.subarray(i, i + len) };
        i += len;
        break;
      }
      case 5: i += 4; break;
      default: throw new Error(`unsupported protobuf wire type ${key & 7}`);
    }
  }
}
