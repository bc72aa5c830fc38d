import assert from 'node:assert/strict';
import { test } from 'node:test';
import { meshSettingsOf } from './mesh-settings.js';
import type { ClusterState, MeshObject } from './types.js';

const stateWith = (spec: MeshObject['spec'] | undefined): ClusterState => ({
  pods: new Map(), services: new Map(), endpointSlices: new Map(), namespaces: new Map(), trafficPermissions: new Map(), version: 1,
  meshes: spec === undefined ? new Map() : new Map([['/default', { apiVersion: 'skein.io/v1alpha1', kind: 'Mesh', metadata: { name: 'default' }, spec } as MeshObject]]),
} as unknown as ClusterState);

test('no Mesh or absent fields: the documented defaults', () => {
  for (const spec of [undefined, {}, { mtls: {} }]) {
    assert.deepEqual(meshSettingsOf(stateWith(spec), 'cluster.local'), { mtlsMode: 'PERMISSIVE', certTtlSeconds: 86400, defaultAction: 'Allow', trustDomain: 'cluster.local' });
  }
});

test('the valid values are taken as written', () => {
  const s = meshSettingsOf(stateWith({ mtls: { mode: 'STRICT', certTTL: '90m' }, defaultAction: 'Deny' }), 'td');
  assert.deepEqual([s.mtlsMode, s.certTtlSeconds, s.defaultAction], ['STRICT', 5400, 'Deny']);
  const p = meshSettingsOf(stateWith({ mtls: { mode: 'PERMISSIVE' }, defaultAction: 'Allow' }), 'td');
  assert.deepEqual([p.mtlsMode, p.defaultAction], ['PERMISSIVE', 'Allow']);
});

test('a value the CRD would refuse never weakens the mesh: it reads as STRICT / Deny', () => {
  for (const mode of ['strict', 'permissive', 'Strict', '', 'OFF']) {
    assert.equal(meshSettingsOf(stateWith({ mtls: { mode } }), 'td').mtlsMode, 'STRICT', mode);
  }
  for (const defaultAction of ['deny', 'allow', 'ALLOW', '', 'yes']) {
    assert.equal(meshSettingsOf(stateWith({ defaultAction }), 'td').defaultAction, 'Deny', defaultAction);
  }
});
