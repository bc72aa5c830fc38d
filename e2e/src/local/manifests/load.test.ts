import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { ManifestError } from '../errors.js';
import { loadManifests, parseManifests } from './load.js';

describe('manifest loading', () => {
  let dir = '';
  after(async () => { if (dir) await rm(dir, { recursive: true, force: true }); });

  it('reads multi-document files and directories in name order', async () => {
    dir = await mkdtemp(join(tmpdir(), 'skl-load-'));
    await writeFile(join(dir, 'b.yaml'), 'apiVersion: v1\nkind: Service\nmetadata: { name: web }\nspec: {}\n');
    await writeFile(join(dir, 'a.yaml'), 'apiVersion: v1\nkind: Namespace\nmetadata: { name: shop }\n---\n---\napiVersion: v1\nkind: ConfigMap\nmetadata: { name: c }\n');
    await writeFile(join(dir, 'notes.txt'), 'not yaml: [');
    const objs = await loadManifests(dir);
    assert.deepEqual(objs.map((o) => `${o.kind}/${o.metadata.name}`), ['Namespace/shop', 'ConfigMap/c', 'Service/web']);
  });
  it('names file and line of invalid YAML', () => {
    assert.throws(() => parseManifests('apiVersion: v1\nkind: Pod\nmetadata:\n  name: [a\n', 'pod.yaml'),
      (e: Error) => e instanceof ManifestError && /^pod\.yaml:\d+: invalid YAML/.test(e.message));
  });
  it('refuses unknown kinds, listing the kinds served', () => {
    assert.throws(() => parseManifests('apiVersion: batch/v1\nkind: Job\nmetadata: { name: j }\n', 'job.yaml'),
      /job\.yaml:1: unknown kind "Job": skein-local serves Namespace, Pod/);
  });
  it('checks apiVersion and name', () => {
    assert.throws(() => parseManifests('apiVersion: v1\nkind: Deployment\nmetadata: { name: d }\n', 'd.yaml'), /needs apiVersion apps\/v1/);
    assert.throws(() => parseManifests('apiVersion: v1\nkind: Service\nmetadata: {}\n', 's.yaml'), /no metadata\.name/);
    assert.throws(() => parseManifests('apiVersion: v1\nkind: Service\nmetadata: { name: Web_1 }\n', 's.yaml'), /DNS-1123/);
  });
  it('reports the line of a later document', () => {
    assert.throws(() => parseManifests('apiVersion: v1\nkind: Namespace\nmetadata: { name: a }\n---\napiVersion: v1\nkind: Nope\nmetadata: { name: b }\n', 'm.yaml'), /m\.yaml:5:/);
  });
  it('a missing path is a clear error', async () => {
    await assert.rejects(loadManifests('/nonexistent/skl.yaml'), /\/nonexistent\/skl\.yaml: no such file or directory/);
  });
});
