#!/usr/bin/env node
// The `skein-cp` command. npm links a bin when `npm ci` runs, before anything is built, and only if its
// file exists then: so the bin is this committed file, and the program is the build it loads.
import { existsSync } from 'node:fs';

const program = new URL('../dist/main.js', import.meta.url);
if (!existsSync(program)) {
  console.error('skein-cp: this checkout is not built (no webhook/dist/main.js): run `bash scripts/bootstrap.sh` at the repository root');
  process.exit(1);
}
await import(program.href);
