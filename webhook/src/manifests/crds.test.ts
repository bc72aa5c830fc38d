// The Skein CRDs (Mesh, TrafficPermission): structural schemas the API server
// accepts, defaults it applies, and value rules that refuse bad policies. Example
// resources in manifests/examples/ must pass; testdata/invalid/ must fail, each
// for the reason its name gives.
import { describe as suite, it, before } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Ajv, ValidateFunction } from 'ajv';
import { loadKustomization, readYamlDocuments } from './kustomize.js';
import { crdAjv, compileCrdSchema, errorKeys, nodesWithDefaults, structuralProblems, type SchemaNode } from './crd-schema.js';
import { INVALID_CR_DIR, MANIFESTS_DIR } from './paths.js';

type Obj = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any -- test access into parsed YAML

/** Each invalid resource and the one error (instancePath + keyword) it must produce. */
const INVALID: Record<string, string[]> = {
  'mesh-mode-lowercase.yaml': ['/spec/mtls/mode enum'],
  'mesh-certttl-words.yaml': ['/spec/mtls/certTTL pattern'],
  'mesh-certttl-days.yaml': ['/spec/mtls/certTTL pattern'],
  'mesh-certttl-negative.yaml': ['/spec/mtls/certTTL pattern'],
  'mesh-default-action-reject.yaml': ['/spec/defaultAction enum'],
  'mesh-typo-field.yaml': ['/spec/mtls additionalProperties'],
  'tp-missing-spec.yaml': [' required'],
  'tp-missing-action.yaml': ['/spec required'],
  'tp-action-lowercase.yaml': ['/spec/action enum'],
  'tp-port-zero.yaml': ['/spec/to/0/ports/0 minimum'],
  'tp-port-too-high.yaml': ['/spec/to/0/ports/0 maximum'],
  'tp-port-string.yaml': ['/spec/to/0/ports/0 type'],
  'tp-sa-no-namespace.yaml': ['/spec/from/0/serviceAccounts/0 pattern'],
  'tp-sa-uppercase.yaml': ['/spec/from/0/serviceAccounts/0 pattern'],
  'tp-sa-spiffe-uri.yaml': ['/spec/from/0/serviceAccounts/0 pattern'],
  'tp-method-lowercase.yaml': ['/spec/to/0/methods/0 pattern'],
  'tp-path-relative.yaml': ['/spec/to/0/paths/0 pattern'],
  'tp-path-query.yaml': ['/spec/to/0/paths/0 pattern'],
  'tp-empty-from-entry.yaml': ['/spec/from/0 minProperties'],
  'tp-selector-operator.yaml': ['/spec/selector/matchExpressions/0/operator enum'],
};

let crds: Obj[] = [];
let ajv: Ajv;
const validators = new Map<string, ValidateFunction>(); // "skein.io/v1alpha1/Mesh" -> validator

function schemaOf(crd: Obj): SchemaNode {
  return crd.spec.versions[0].schema.openAPIV3Schema as SchemaNode;
}

function validatorFor(cr: Obj): ValidateFunction {
  const v = validators.get(`${String(cr.apiVersion)}/${String(cr.kind)}`);
  assert.ok(v, `a CRD defines ${String(cr.apiVersion)} ${String(cr.kind)}`);
  return v;
}

/** Validates a copy (ajv applies defaults in place) and returns the error keys and the defaulted object. */
function check(cr: Obj): { errors: string[]; defaulted: Obj } {
  const copy = structuredClone(cr);
  const validate = validatorFor(copy);
  validate(copy);
  return { errors: errorKeys(validate.errors), defaulted: copy };
}

before(() => {
  crds = loadKustomization(MANIFESTS_DIR).map((m) => m.object as Obj).filter((o) => o.kind === 'CustomResourceDefinition');
  ajv = crdAjv();
  for (const crd of crds) {
    const version = crd.spec.versions[0];
    validators.set(`${String(crd.spec.group)}/${String(version.name)}/${String(crd.spec.names.kind)}`,
      compileCrdSchema(ajv, schemaOf(crd)));
  }
});

suite('CRD definitions', () => {
  it('defines Mesh (cluster scoped) and TrafficPermission (namespaced) in skein.io/v1alpha1', () => {
    const summary = crds.map((c) => [c.metadata.name, c.spec.group, c.spec.scope, c.spec.names.kind, c.spec.names.plural]);
    assert.deepEqual(summary, [
      ['meshes.skein.io', 'skein.io', 'Cluster', 'Mesh', 'meshes'],
      ['trafficpermissions.skein.io', 'skein.io', 'Namespaced', 'TrafficPermission', 'trafficpermissions'],
    ]);
    for (const crd of crds) {
      assert.equal(crd.metadata.name, `${String(crd.spec.names.plural)}.${String(crd.spec.group)}`);
      assert.equal(crd.spec.versions.length, 1);
      const [v] = crd.spec.versions;
      assert.equal(v.name, 'v1alpha1');
      assert.equal(v.served, true);
      assert.equal(v.storage, true);
      assert.deepEqual(v.subresources, { status: {} });
      assert.ok(crd.spec.names.shortNames.length > 0);
      assert.ok(crd.spec.names.categories.includes('skein'));
      assert.equal(crd.spec.preserveUnknownFields, undefined, 'unknown fields are pruned');
    }
  });

  it('prints the columns a user looks for', () => {
    const columns = crds.map((c) => (c.spec.versions[0].additionalPrinterColumns as Obj[])
      .map((col) => `${String(col.name)}=${String(col.jsonPath)}`));
    assert.deepEqual(columns, [
      ['mTLS=.spec.mtls.mode', 'Default-Action=.spec.defaultAction', 'Cert-TTL=.spec.mtls.certTTL', 'Age=.metadata.creationTimestamp'],
      ['Action=.spec.action', 'Selector=.spec.selector.matchLabels', 'Age=.metadata.creationTimestamp'],
    ]);
  });

  it('have structural schemas', () => {
    for (const crd of crds) assert.deepEqual(structuralProblems(schemaOf(crd)), [], crd.metadata.name);
  });

  it('the structural check catches what the API server refuses', () => {
    const bad: SchemaNode = {
      type: 'object',
      properties: {
        metadata: { type: 'object', properties: { labels: { type: 'object' } } },
        spec: { type: 'object', properties: { a: { type: 'string' } }, additionalProperties: false },
        list: { type: 'array', items: { type: 'string' }, uniqueItems: true },
        untyped: { description: 'no type' },
        conds: { type: 'array', 'x-kubernetes-list-type': 'map', 'x-kubernetes-list-map-keys': ['type'],
          items: { type: 'object', properties: { type: { type: 'string' } } } },
      },
    };
    assert.deepEqual(structuralProblems(bad), [
      '.metadata: must be exactly {type: object}',
      '.spec: additionalProperties and properties are mutually exclusive',
      '.list: uniqueItems must not be true (use x-kubernetes-list-type: set)',
      '.untyped: no type',
      '.conds: list map key "type" must be required in items',
    ]);
  });

  it('declare only defaults that their own schema accepts', () => {
    for (const crd of crds) {
      const found = nodesWithDefaults(schemaOf(crd));
      for (const { path, node } of found) {
        // Closed schema: the server also requires a default to have no fields pruning would drop.
        const { default: _default, ...withoutDefault } = node;
        const validate = compileCrdSchema(crdAjv(), withoutDefault);
        assert.ok(validate(structuredClone(node.default)), `${String(crd.metadata.name)} ${path}: ${errorKeys(validate.errors).join('; ')}`);
      }
    }
  });
});

suite('custom resources', () => {
  it('an empty Mesh spec is defaulted to PERMISSIVE, 24h, Allow (as the API server does)', () => {
    for (const cr of [
      { apiVersion: 'skein.io/v1alpha1', kind: 'Mesh', metadata: { name: 'default' }, spec: {} },
      { apiVersion: 'skein.io/v1alpha1', kind: 'Mesh', metadata: { name: 'default' } },
      { apiVersion: 'skein.io/v1alpha1', kind: 'Mesh', metadata: { name: 'default' }, spec: { mtls: { mode: 'STRICT' } } },
    ]) {
      const { errors, defaulted } = check(cr);
      assert.deepEqual(errors, []);
      const expectedMode = cr.spec?.mtls?.mode ?? 'PERMISSIVE';
      assert.deepEqual(defaulted.spec, { mtls: { mode: expectedMode, certTTL: '24h' }, defaultAction: 'Allow' });
    }
  });

  it('accepts every example in manifests/examples/ and the default Mesh', () => {
    const dir = join(MANIFESTS_DIR, 'examples');
    const files = readdirSync(dir).filter((f) => f.endsWith('.yaml'));
    assert.ok(files.length >= 5);
    const docs = [
      ...files.flatMap((f) => readYamlDocuments(join(dir, f)).map((o) => ({ f, o }))),
      ...readYamlDocuments(join(MANIFESTS_DIR, 'defaults', 'mesh-default.yaml')).map((o) => ({ f: 'defaults', o })),
    ];
    for (const { f, o } of docs) assert.deepEqual(check(o).errors, [], f);
    const kinds = new Set(docs.map(({ o }) => o.kind));
    assert.deepEqual([...kinds].sort(), ['Mesh', 'TrafficPermission']);
  });

  it('refuses each invalid resource for the reason it was written for', () => {
    const files = readdirSync(INVALID_CR_DIR).filter((f) => f.endsWith('.yaml')).sort();
    assert.deepEqual(files, Object.keys(INVALID).sort(), 'every invalid file has an expected error, and vice versa');
    for (const f of files) {
      const [cr] = readYamlDocuments(join(INVALID_CR_DIR, f));
      assert.ok(cr);
      assert.deepEqual(check(cr).errors, INVALID[f], f);
    }
  });

  it('certTTL takes Go durations and nothing else', () => {
    const mesh = (certTTL: unknown): Obj => ({ apiVersion: 'skein.io/v1alpha1', kind: 'Mesh', metadata: { name: 'default' },
      spec: { mtls: { certTTL } } });
    for (const good of ['24h', '90m', '1h30m', '1.5h', '3600s', '500ms', '250us', '10µs', '1h0m0s', '100ns']) {
      assert.deepEqual(check(mesh(good)).errors, [], good);
    }
    for (const bad of ['', 'h', '24', '1d', '1w', '24 h', '24H', '+1h', '1h-30m', '.5h', 24]) {
      assert.notDeepEqual(check(mesh(bad)).errors, [], String(bad));
    }
  });

  it('serviceAccounts take "<ns>/<sa>" with "*" wildcards', () => {
    const tp = (sa: string): Obj => ({ apiVersion: 'skein.io/v1alpha1', kind: 'TrafficPermission',
      metadata: { name: 'x', namespace: 'shop' }, spec: { action: 'Allow', from: [{ serviceAccounts: [sa] }] } });
    for (const good of ['shop/frontend', 'shop/*', '*/frontend', '*/*', '*', 'team-a/build.bot', 'ns1/sa-*']) {
      assert.deepEqual(check(tp(good)).errors, [], good);
    }
    for (const bad of ['frontend', 'shop/', '/frontend', 'shop/frontend/x', 'Shop/x', 'shop/-x', 'sh op/x', `${'a'.repeat(64)}/x`]) {
      assert.deepEqual(check(tp(bad)).errors, ['/spec/from/0/serviceAccounts/0 pattern'], bad);
    }
  });
});
