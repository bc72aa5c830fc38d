import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { localStoreSource } from './local-store.js';
import { memoryLogger, waitForState } from './testing.js';
import type { ClusterSource } from './types.js';

let rv = 0;
/** Writes an object as skein-local's store does: <name>.json.tmp, then rename. */
function put(dir: string, o: { kind: string; metadata: { name: string; namespace?: string } } & Record<string, unknown>): void {
  const folder = join(dir, o.kind, o.metadata.namespace ?? '_cluster');
  mkdirSync(folder, { recursive: true });
  const f = join(folder, `${o.metadata.name}.json`);
  rv += 1;
  writeFileSync(`${f}.tmp`, JSON.stringify({ apiVersion: 'v1', ...o, metadata: { ...o.metadata, resourceVersion: String(rv) } }, null, 2));
  renameSync(`${f}.tmp`, f);
}

const pod = (name: string, ip: string): { kind: string; metadata: { name: string; namespace: string } } & Record<string, unknown> => ({
  kind: 'Pod', metadata: { name, namespace: 'shop' }, spec: { containers: [{ name: 'app', image: 'x' }] }, status: { podIP: ip, podIPs: [{ ip }] },
});

describe('localStoreSource', () => {
  let dir: string;
  let source: ClusterSource;
  const logs = memoryLogger();

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'skein-discovery-store-'));
    put(dir, pod('a', '10.244.0.1'));
    put(dir, { kind: 'Mesh', apiVersion: 'skein.io/v1alpha1', metadata: { name: 'default' }, spec: { mtls: { mode: 'STRICT' } } });
    put(dir, { kind: 'Namespace', metadata: { name: 'shop' } });
    source = localStoreSource({ dir, log: logs.log });
    await source.start();
  });

  after(async () => {
    await source.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  test('the first scan sees what exists, cluster-scoped kinds under _cluster with key "/<name>"', () => {
    const s = source.state();
    assert.deepEqual([...s.pods.keys()], ['shop/a']);
    assert.equal(s.meshes.get('/default')?.spec?.mtls?.mode, 'STRICT');
    assert.deepEqual([...s.namespaces.keys()], ['/shop']);
  });

  test('create, modify (atomic rename), delete, and a new namespace folder', async () => {
    const v0 = source.state().version;
    put(dir, pod('b', '10.244.0.2'));
    await waitForState(source, (s) => s.pods.has('shop/b'), 'pod b created');
    put(dir, pod('b', '10.244.0.22'));
    await waitForState(source, (s) => s.pods.get('shop/b')?.status?.podIP === '10.244.0.22', 'pod b modified');
    // Two writes to the same file in a row (same size, likely the same mtime jiffy): the second is seen.
    put(dir, pod('b', '10.244.0.23'));
    put(dir, pod('b', '10.244.0.24'));
    await waitForState(source, (s) => s.pods.get('shop/b')?.status?.podIP === '10.244.0.24', 'pod b modified twice');
    rmSync(join(dir, 'Pod', 'shop', 'b.json'));
    await waitForState(source, (s) => !s.pods.has('shop/b'), 'pod b deleted');
    put(dir, { kind: 'Service', metadata: { name: 'web', namespace: 'other' }, spec: { clusterIP: '10.96.0.9', ports: [{ port: 80 }] } });
    await waitForState(source, (s) => s.services.has('other/web'), 'service in a new namespace folder');
    assert.ok(source.state().version > v0);
  });

  test('a half-written or invalid file is skipped with a warning; the last good object is kept; a tmp file is ignored', async () => {
    const f = join(dir, 'Pod', 'shop', 'a.json');
    writeFileSync(f, '{"kind":"Pod","metadata":{"na'); // half-written, not via rename
    writeFileSync(join(dir, 'Pod', 'shop', 'c.json.tmp'), '{');
    writeFileSync(join(dir, 'Pod', 'shop', 'wrong.json'), JSON.stringify({ kind: 'Pod', metadata: { name: 'other', namespace: 'shop' } }));
    const deadline = Date.now() + 5000;
    while (logs.lines().filter((l) => l.level === 40).length < 2 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    const warnings = logs.lines().filter((l) => l.level === 40).map((l) => `${String(l.file)}: ${String(l.msg)}`);
    assert.ok(warnings.some((w) => w.includes('a.json') && w.includes('cannot read or parse')), warnings.join('\n'));
    assert.ok(warnings.some((w) => w.includes('wrong.json') && w.includes('is not the Pod shop/wrong')), warnings.join('\n'));
    assert.equal(source.state().pods.get('shop/a')?.status?.podIP, '10.244.0.1', 'last good version kept');
    assert.ok(!source.state().pods.has('shop/wrong') && !source.state().pods.has('shop/other') && !source.state().pods.has('shop/c'));
    put(dir, pod('a', '10.244.0.11'));
    await waitForState(source, (s) => s.pods.get('shop/a')?.status?.podIP === '10.244.0.11', 'pod a repaired');
  });

  test('a namespace folder removed as a whole removes its objects', async () => {
    rmSync(join(dir, 'Service', 'other'), { recursive: true });
    await waitForState(source, (s) => !s.services.has('other/web'), 'service gone with its folder');
  });
});
