// The skein/dataplane "image" for hosts without a container engine: this build installed as a
// read-only, world-readable folder (install.ts) and the production dependencies it holds (closure.ts).
// Imports only node:fs and ../errors.js; it never loads the proxy itself.
export { installDataplaneImage, firstUntraversable, DATAPLANE_DIR, type InstalledImage, type InstallOptions } from './install.js';
export { productionClosure } from './closure.js';
