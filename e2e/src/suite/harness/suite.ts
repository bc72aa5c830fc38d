// Per-file lifecycle for e2e suites (CONVENTIONS §13): one skein-local per test file, started in
// before() and torn down in after() whatever happened; a failing step dumps pods, sidecar /stats
// and logs of the suite's namespaces before the error propagates.
import { after, before } from 'node:test';
import { LocalMesh } from './local-mesh.js';

export interface MeshSuite {
  readonly mesh: LocalMesh;
  /** Wraps a test body so that a failure first prints the diagnostics dump. */
  readonly diagnosed: (fn: () => Promise<void>) => () => Promise<void>;
}

/**
 * Registers before/after hooks in the current describe(): `up`, then `setup` (apply + wait);
 * after: `down` and removal of the work dir.
 */
export function meshSuite(tag: string, namespaces: readonly string[], setup: (mesh: LocalMesh) => Promise<void>): MeshSuite {
  const mesh = new LocalMesh(tag);
  let dumped = false;
  const dump = async (why: string): Promise<void> => {
    if (dumped) return; // one dump per file is enough and keeps the output readable
    dumped = true;
    console.error(`\n######## ${tag}: ${why}; diagnostics follow (state dir ${mesh.stateDir})\n${await mesh.dump(namespaces)}\n######## end of diagnostics\n`);
  };
  const diagnosed = (fn: () => Promise<void>) => async (): Promise<void> => {
    try {
      await fn();
    } catch (err) {
      await dump(`failed: ${(err as Error).message.split('\n')[0]}`);
      throw err;
    }
  };
  let release = (): void => undefined;
  before(async () => {
    release = teardownOnSignals(mesh, tag);
    await mesh.up();
    await diagnosed(() => setup(mesh))();
  }, { timeout: 240_000 });
  after(async () => {
    release();
    const problem = await mesh.destroy();
    if (problem) console.error(`${tag}: cleanup problem: ${problem}`);
  }, { timeout: 150_000 });
  return { mesh, diagnosed };
}

/**
 * If the runner kills the test file (its timeout, ^C), after() never runs: tear the instance down
 * from the signal, then die of it. Returns the function that removes the handlers (call it in after()).
 */
export function teardownOnSignals(mesh: LocalMesh, tag: string): () => void {
  const onSignal = (signal: NodeJS.Signals): void => {
    console.error(`${tag}: ${signal}: tearing down skein-local (${mesh.stateDir})`);
    mesh.destroySync();
    process.kill(process.pid, signal);
  };
  process.once('SIGTERM', onSignal);
  process.once('SIGINT', onSignal);
  return () => {
    process.off('SIGTERM', onSignal);
    process.off('SIGINT', onSignal);
  };
}
