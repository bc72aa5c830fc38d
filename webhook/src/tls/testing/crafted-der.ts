// Test support (not a test file): hostile DER wrapped in PEM, the shapes behind the node-forge parsing CVEs
// (reliability.md §5, C2): deep nesting, an OID with huge arcs, lengths that run past the end.

function derLength(n: number): Buffer {
  if (n < 0x80) return Buffer.from([n]);
  const bytes: number[] = [];
  for (let v = n; v > 0; v = Math.floor(v / 256)) bytes.unshift(v % 256);
  return Buffer.from([0x80 | bytes.length, ...bytes]);
}

const tlv = (tag: number, body: Buffer): Buffer => Buffer.concat([Buffer.from([tag]), derLength(body.length), body]);

function pem(label: string, der: Buffer): string {
  const b64 = der.toString('base64').replace(/.{1,64}/g, '$&\n');
  return `-----BEGIN ${label}-----\n${b64}-----END ${label}-----\n`;
}

/** name → PEM text, certificates and keys alike. */
export function craftedPems(): Record<string, string> {
  let nested: Buffer = Buffer.alloc(0);
  for (let i = 0; i < 5_000; i++) nested = tlv(0x30, nested);
  const hugeOid = tlv(0x30, tlv(0x06, Buffer.concat([Buffer.alloc(4_000, 0xff), Buffer.from([0x01])])));
  const overlong = Buffer.from([0x30, 0x84, 0x7f, 0xff, 0xff, 0xff, 0x02, 0x01, 0x00]);
  return {
    'deep nesting (certificate)': pem('CERTIFICATE', nested),
    'huge OID arcs (certificate)': pem('CERTIFICATE', hugeOid),
    'length past the end (certificate)': pem('CERTIFICATE', overlong),
    'deep nesting (key)': pem('PRIVATE KEY', nested),
    'huge OID arcs (RSA key)': pem('RSA PRIVATE KEY', hugeOid),
    'not PEM at all': '\u0000\u0001garbage',
  };
}
