// What process a container runs: image mapping (skein/dataplane → the local skein-dp), command+args,
// $(VAR) expansion and the working directory (pure).
import { isAbsolute, join, resolve } from 'node:path';
import { ManifestError } from '../errors.js';
import type { Container } from '../model/types.js';
import type { StatePaths } from '../paths.js';
import { expandVars } from './env.js';

export interface ProcessSpec { argv: string[]; cwd: string }

/**
 * Where programs come from: host binaries resolve against `repoRoot` (the default working dir), the
 * skein/dataplane image is `node <dataplaneImage>/dataplane/dist/main.js`, run from the image folder
 * the daemon installed (its WORKDIR, as /app in the Dockerfile), never from the checkout, which the
 * proxy's user may not be able to read.
 */
export interface CommandContext { repoRoot: string; nodePath: string; dataplaneImage: string }

/** The command context of an instance (its state paths say where the dataplane image is). */
export function commandContext(repoRoot: string, paths: Pick<StatePaths, 'dataplaneImage'>): CommandContext {
  return { repoRoot, nodePath: process.execPath, dataplaneImage: paths.dataplaneImage };
}

export function isDataplaneImage(image: string | undefined): boolean {
  if (!image) return false;
  let repo = image.split('@')[0]!;
  const slash = repo.lastIndexOf('/');
  const colon = repo.lastIndexOf(':');
  if (colon > slash) repo = repo.slice(0, colon);
  return repo === 'skein/dataplane' || repo.endsWith('/skein/dataplane');
}

/** skein-dp as argv[0] (entrypoint of the dataplane image, or a hook command) → node <image>/dataplane/dist/main.js. */
export function mapSkeinDp(argv: readonly string[], ctx: CommandContext): string[] {
  if (argv[0] === 'skein-dp') return [ctx.nodePath, join(ctx.dataplaneImage, 'dataplane', 'dist', 'main.js'), ...argv.slice(1)];
  return [...argv];
}

export function containerProcess(podName: string, c: Container, env: ReadonlyMap<string, string>, ctx: CommandContext): ProcessSpec {
  const workdir = isDataplaneImage(c.image) ? ctx.dataplaneImage : ctx.repoRoot;
  const cwd = c.workingDir ? resolve(workdir, c.workingDir) : workdir;
  const args = (c.args ?? []).map((a) => expandVars(a, env));
  let argv: string[];
  if (c.command && c.command.length > 0) {
    argv = [...c.command.map((a) => expandVars(a, env)), ...args];
  } else if (isDataplaneImage(c.image)) {
    argv = ['skein-dp', ...args];
  } else {
    throw new ManifestError(
      `pod ${podName}, container ${c.name}: image "${c.image ?? ''}" has no command skein-local can run — ` +
      'skein-local runs host binaries, so give the container a `command` (e.g. ["python3", "-m", "http.server", "8080"])');
  }
  argv = mapSkeinDp(argv, ctx);
  // A relative program path (./bin/x) resolves against the working directory; bare names use PATH.
  if (argv[0]!.includes('/') && !isAbsolute(argv[0]!)) argv[0] = resolve(cwd, argv[0]!);
  return { argv, cwd };
}
