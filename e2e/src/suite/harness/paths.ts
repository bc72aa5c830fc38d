// Where things are, found from this file (e2e/dist/suite/harness/paths.js), so the suite works from any cwd.
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', '..');
export const CLI = resolve(REPO_ROOT, 'e2e', 'dist', 'cli.js');
/** Compiled fixture programs (servers and clients run inside pods). */
export const FIXTURES = resolve(REPO_ROOT, 'e2e', 'dist', 'suite', 'fixtures');
export function fixture(name: string): string {
  return resolve(FIXTURES, name);
}

/**
 * Debian's python3 (bootstrap installs it), named by path so that a python from a version manager
 * earlier in PATH (pyenv shims) is not what the suite tests against.
 */
export const PYTHON3 = '/usr/bin/python3';
