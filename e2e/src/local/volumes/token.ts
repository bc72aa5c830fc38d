// Service account tokens for projected volumes: RS256 JWTs signed with <state>/sa-key.pem.
// The public key goes to <state>/sa-pub.pem so the control plane can verify what sidecars present.
import { createPrivateKey, generateKeyPairSync, randomUUID, sign, type KeyObject } from 'node:crypto';
import { chmod, readFile, writeFile } from 'node:fs/promises';

export const ISSUER = 'skein-local';

export async function ensureSigningKey(keyPath: string, pubPath: string): Promise<KeyObject> {
  try {
    return createPrivateKey(await readFile(keyPath, 'utf8'));
  } catch {
    const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    await writeFile(keyPath, privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600 });
    await chmod(keyPath, 0o600);
    await writeFile(pubPath, publicKey.export({ type: 'spki', format: 'pem' }));
    return privateKey;
  }
}

export interface TokenRequest {
  namespace: string;
  serviceAccount: string;
  audiences: string[];
  expirationSeconds: number;
  pod: { name: string; uid: string };
  now?: number;
}

const b64url = (b: Buffer | string): string => Buffer.from(b).toString('base64url');

export function mintToken(key: KeyObject, req: TokenRequest): string {
  const iat = Math.floor((req.now ?? Date.now()) / 1000);
  const header = { alg: 'RS256', typ: 'JWT', kid: 'skein-local' };
  const payload = {
    iss: ISSUER,
    sub: `system:serviceaccount:${req.namespace}:${req.serviceAccount}`,
    aud: req.audiences,
    iat,
    nbf: iat,
    exp: iat + req.expirationSeconds,
    jti: randomUUID(),
    'kubernetes.io': {
      namespace: req.namespace,
      pod: { name: req.pod.name, uid: req.pod.uid },
      serviceaccount: { name: req.serviceAccount },
    },
  };
  const input = `${b64url(JSON.stringify(header))}.${b64url(JSON.stringify(payload))}`;
  return `${input}.${b64url(sign('sha256', Buffer.from(input), key))}`;
}
