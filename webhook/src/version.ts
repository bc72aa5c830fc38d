// The version of skein-cp, read from @skein/webhook's package.json at start-up. The injector stamps it into
// `skein.io/injected` and the dataplane image tag, so there is exactly one source for it.
import { readFileSync } from 'node:fs';

function readVersion(): string {
  // dist/version.js and src/version.ts both sit one level below the package root.
  const raw = readFileSync(new URL('../package.json', import.meta.url), 'utf8');
  const parsed: unknown = JSON.parse(raw);
  if (typeof parsed === 'object' && parsed !== null && 'version' in parsed && typeof parsed.version === 'string') {
    return parsed.version;
  }
  throw new Error('webhook/package.json has no "version" string; reinstall @skein/webhook');
}

export const VERSION: string = readVersion();
