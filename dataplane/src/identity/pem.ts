// The "-----BEGIN CERTIFICATE-----" blocks of a PEM text (a chain or a bundle), each ending in a newline.
// No dependencies: the admin server uses it in a standalone sidecar too.
export function splitPem(text: string): string[] {
  return (text.match(/-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/g) ?? []).map((pem) => `${pem}\n`);
}
