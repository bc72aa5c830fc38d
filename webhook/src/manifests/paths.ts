// Where the manifests and test data live, found from this compiled file's
// location (webhook/dist/manifests/) so tests work from any working directory.
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';

export const REPO_ROOT = fileURLToPath(new URL('../../../', import.meta.url));
export const MANIFESTS_DIR = join(REPO_ROOT, 'manifests');
/** Invalid custom resources that the CRD schemas must refuse (YAML is not copied to dist, so read from src). */
export const INVALID_CR_DIR = join(REPO_ROOT, 'webhook', 'src', 'manifests', 'testdata', 'invalid');
