// Names the API server would generate (pure-ish): generateName suffixes and pod-template hashes.
import { createHash, randomInt } from 'node:crypto';

/** Kubernetes' alphabet for generated names: no vowels (no words), no look-alike characters. */
const ALPHABET = 'bcdfghjklmnpqrstvwxz2456789';

export function randomSuffix(n = 5): string {
  let s = '';
  for (let i = 0; i < n; i++) s += ALPHABET[randomInt(ALPHABET.length)];
  return s;
}

/** pod-template-hash: a stable 10-character hash of the Deployment's pod template. */
export function templateHash(template: unknown): string {
  const digest = createHash('sha256').update(JSON.stringify(template)).digest();
  let s = '';
  for (let i = 0; i < 10; i++) s += ALPHABET[digest[i]! % ALPHABET.length];
  return s;
}
