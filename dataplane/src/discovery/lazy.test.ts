// A standalone sidecar (no SKEIN_CP_ADDRESS) must not pay for gRPC (~60 ms of start): the modules it loads
// (admin server, the identity and discovery interfaces) leave grpc-js unloaded; the mesh client loads it.
// grpc-js is CommonJS, so once loaded it is in the CJS module cache of the child process.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const run = promisify(execFile);
const dist = (rel: string): string => JSON.stringify(fileURLToPath(new URL(rel, import.meta.url)));

async function grpcLoadedAfter(imports: string[]): Promise<boolean> {
  const script = `${imports.map((m) => `await import(${dist(m)});`).join('\n')}
const { createRequire } = await import('node:module');
const cache = createRequire(import.meta.url).cache;
console.log(Object.keys(cache).some((k) => k.includes('@grpc/grpc-js')));`;
  const { stdout } = await run(process.execPath, ['--input-type=module', '-e', script]);
  return stdout.trim() === 'true';
}

describe('gRPC is loaded only by the mesh client', () => {
  it('the whole standalone proxy (run, both pipelines, policy, admin, config) leaves grpc-js unloaded', async () => {
    assert.equal(await grpcLoadedAfter(['../lifecycle/run.js', '../admin/server.js', './index.js', '../identity/index.js', '../config/index.js', '../policy/index.js']), false);
  });

  it('the mesh client loads it (the check can see it)', async () => {
    assert.equal(await grpcLoadedAfter(['./index.js', './mesh-client.js']), true);
  });
});
