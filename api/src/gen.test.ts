// The committed generated code is what ts-proto makes of the committed .proto files today: regenerates
// api/proto/ into a temporary directory with protoc + ts-proto and compares every file with api/src/gen/.
// Catches a .proto edited without running scripts/gen-api.sh (the round trips in index.test.ts cannot).
// protoc comes from the Debian package protobuf-compiler (scripts/bootstrap.sh installs it).
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

// From api/dist/gen.test.js (and api/src/gen.test.ts) two levels up is the repository root.
const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const PROTO = join(ROOT, 'api/proto');
const COMMITTED = join(ROOT, 'api/src/gen');
// Must match scripts/gen-api.sh; if the two drift, this test fails (the outputs differ).
const TS_PROTO_OPT = 'esModuleInterop=true,importSuffix=.js,outputServices=grpc-js,env=node,useExactTypes=false';

const out = mkdtempSync(join(tmpdir(), 'sk-ut-api-gen-'));
after(() => rmSync(out, { recursive: true, force: true }));

function files(dir: string, ext: string): string[] {
  return readdirSync(dir, { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith(ext)).map((f) => relative(dir, join(dir, f))).sort();
}

test('api/src/gen/ is exactly what ts-proto generates from api/proto/ (run scripts/gen-api.sh after editing a .proto)', () => {
  execFileSync('protoc', [
    `--plugin=${join(ROOT, 'node_modules/.bin/protoc-gen-ts_proto')}`,
    `--proto_path=${PROTO}`,
    `--ts_proto_out=${out}`,
    `--ts_proto_opt=${TS_PROTO_OPT}`,
    ...files(PROTO, '.proto'),
  ], { cwd: PROTO, stdio: 'pipe' });
  const generated = files(out, '.ts');
  assert.deepEqual(files(COMMITTED, '.ts'), generated);
  assert.ok(generated.length >= 3);
  for (const f of generated) {
    assert.equal(readFileSync(join(COMMITTED, f), 'utf8'), readFileSync(join(out, f), 'utf8'), `${f} differs: run scripts/gen-api.sh`);
  }
});
