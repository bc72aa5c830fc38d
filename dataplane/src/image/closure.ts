// The production dependency closure of a package: every package its `dependencies` (and installed
// `optionalDependencies`) pull in, found the way Node resolves them (node_modules of the package, then
// of each parent folder), so that copying those folders at the same relative paths gives a tree in
// which `import` resolves exactly as it does in the checkout. devDependencies are not followed.
import { existsSync, readFileSync, realpathSync } from 'node:fs';
import { dirname, join, relative, sep } from 'node:path';
import { ImageBuildError } from '../errors.js';

interface Manifest {
  name?: string;
  dependencies?: Record<string, string>;
  optionalDependencies?: Record<string, string>;
}

function readManifest(dir: string): Manifest {
  return JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as Manifest;
}

/** The folder `name` resolves to from `fromDir`, walking up to `root`; undefined when none. */
function resolvePackageDir(name: string, fromDir: string, root: string): string | undefined {
  for (let dir = fromDir; ; dir = dirname(dir)) {
    const candidate = join(dir, 'node_modules', name);
    if (existsSync(join(candidate, 'package.json'))) return candidate;
    if (dir === root || dirname(dir) === dir) return undefined;
  }
}

/**
 * Workspace packages the image holds (their package.json and built dist/, beside dataplane/, as the
 * Dockerfile copies api/): the generated gRPC client of @skein/api runs in the sidecar.
 */
export const IMAGE_WORKSPACES: ReadonlySet<string> = new Set(['@skein/api']);

/**
 * Paths (relative to `root`, the folder whose node_modules holds the hoisted packages) of every
 * package in the production closure of the package in `pkgDir`, sorted. A workspace package (a
 * symlink out of node_modules) is refused unless it is one of IMAGE_WORKSPACES (then its path is the
 * symlink, which install.ts recreates).
 */
export function productionClosure(pkgDir: string, root: string): string[] {
  const found = new Set<string>();
  const visit = (dir: string): void => {
    const m = readManifest(dir);
    const optional = new Set(Object.keys(m.optionalDependencies ?? {}));
    for (const name of [...Object.keys(m.dependencies ?? {}), ...optional]) {
      const depDir = resolvePackageDir(name, dir, root);
      if (!depDir) {
        if (optional.has(name)) continue; // an optional dependency that was not installed (other platform)
        throw new ImageBuildError(`${m.name ?? dir} depends on ${name}, which is not installed under ${root}: run \`npm ci\``);
      }
      const rel = relative(root, depDir);
      if (found.has(rel)) continue;
      if (!relative(root, realpathSync(depDir)).split(sep).includes('node_modules') && !IMAGE_WORKSPACES.has(name)) {
        throw new ImageBuildError(`${m.name ?? dir} depends on the workspace package ${name}: the dataplane image holds no other workspace`);
      }
      found.add(rel);
      visit(depDir);
    }
  };
  visit(pkgDir);
  return [...found].sort();
}
