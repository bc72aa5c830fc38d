import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { repoRootFromHere } from '../config.js';
import { matchesSelector, parseSelectorArg } from './selectors.js';
import { loadWebhookEntries, parseWebhookEntries, selectWebhook, type WebhookEntry } from './webhook-config.js';

describe('label selectors', () => {
  it('matchLabels needs every pair', () => {
    assert.equal(matchesSelector({ matchLabels: { a: '1', b: '2' } }, { a: '1', b: '2', c: '3' }), true);
    assert.equal(matchesSelector({ matchLabels: { a: '1', b: '2' } }, { a: '1' }), false);
  });
  it('an absent or empty selector matches everything', () => {
    assert.equal(matchesSelector(undefined, undefined), true);
    assert.equal(matchesSelector({}, { x: 'y' }), true);
  });
  it('In / NotIn / Exists / DoesNotExist', () => {
    const l = { tier: 'web', env: 'prod' };
    assert.equal(matchesSelector({ matchExpressions: [{ key: 'tier', operator: 'In', values: ['web', 'api'] }] }, l), true);
    assert.equal(matchesSelector({ matchExpressions: [{ key: 'tier', operator: 'In', values: ['api'] }] }, l), false);
    assert.equal(matchesSelector({ matchExpressions: [{ key: 'missing', operator: 'In', values: ['x'] }] }, l), false);
    assert.equal(matchesSelector({ matchExpressions: [{ key: 'tier', operator: 'NotIn', values: ['api'] }] }, l), true);
    assert.equal(matchesSelector({ matchExpressions: [{ key: 'tier', operator: 'NotIn', values: ['web'] }] }, l), false);
    assert.equal(matchesSelector({ matchExpressions: [{ key: 'missing', operator: 'NotIn', values: ['web'] }] }, l), true, 'NotIn holds for an absent key');
    assert.equal(matchesSelector({ matchExpressions: [{ key: 'env', operator: 'Exists' }] }, l), true);
    assert.equal(matchesSelector({ matchExpressions: [{ key: 'nope', operator: 'Exists' }] }, l), false);
    assert.equal(matchesSelector({ matchExpressions: [{ key: 'nope', operator: 'DoesNotExist' }] }, l), true);
    assert.equal(matchesSelector({ matchExpressions: [{ key: 'env', operator: 'DoesNotExist' }] }, l), false);
  });
  it('labels and expressions combine with AND', () => {
    const sel = { matchLabels: { a: '1' }, matchExpressions: [{ key: 'b', operator: 'DoesNotExist' }] };
    assert.equal(matchesSelector(sel, { a: '1' }), true);
    assert.equal(matchesSelector(sel, { a: '1', b: 'x' }), false);
  });
  it('an unknown operator is an error, not a silent match', () => {
    assert.throws(() => matchesSelector({ matchExpressions: [{ key: 'a', operator: 'Gt', values: ['1'] }] }, { a: '2' }), /Gt/);
  });
  it('a label key named __proto__ is just a key', () => {
    assert.equal(matchesSelector({ matchExpressions: [{ key: '__proto__', operator: 'Exists' }] }, {}), false);
  });
  it('parses -l arguments', () => {
    assert.deepEqual(parseSelectorArg('app=web,tier!=db,env,!legacy'), {
      matchLabels: { app: 'web' },
      matchExpressions: [
        { key: 'tier', operator: 'NotIn', values: ['db'] },
        { key: 'env', operator: 'Exists' },
        { key: 'legacy', operator: 'DoesNotExist' },
      ],
    });
  });
});

describe('webhook entry selection (manifests/webhook-configuration.yaml)', () => {
  let entries: WebhookEntry[] = [];
  before(async () => { entries = await loadWebhookEntries(repoRootFromHere()); });
  const ns = (name: string, labels: Record<string, string> = {}): Record<string, string> => ({ 'kubernetes.io/metadata.name': name, ...labels });

  it('a namespace labelled skein.io/inject=enabled sends its pods to the webhook', () => {
    assert.ok(selectWebhook(entries, ns('shop', { 'skein.io/inject': 'enabled' }), { app: 'web' }));
  });
  it('the pod label skein.io/inject=disabled opts a pod out of an enabled namespace', () => {
    assert.equal(selectWebhook(entries, ns('shop', { 'skein.io/inject': 'enabled' }), { 'skein.io/inject': 'disabled' }), undefined);
  });
  it('a pod labelled skein.io/inject=enabled in an unlabelled namespace opts in', () => {
    assert.ok(selectWebhook(entries, ns('plain'), { 'skein.io/inject': 'enabled' }));
    assert.equal(selectWebhook(entries, ns('plain'), { app: 'web' }), undefined);
  });
  it('kube-system and skein-system never go to the webhook', () => {
    for (const n of ['kube-system', 'skein-system']) {
      assert.equal(selectWebhook(entries, ns(n, { 'skein.io/inject': 'enabled' }), {}), undefined);
      assert.equal(selectWebhook(entries, ns(n), { 'skein.io/inject': 'enabled' }), undefined);
    }
  });
  it('rules that do not cover pod CREATE do not match', () => {
    const e = parseWebhookEntries(`apiVersion: admissionregistration.k8s.io/v1
kind: MutatingWebhookConfiguration
metadata: { name: x }
webhooks:
  - name: update-only
    rules: [{ operations: [UPDATE], apiGroups: [""], apiVersions: [v1], resources: [pods] }]
    clientConfig: { service: { name: s, namespace: n, path: /inject } }
`, 'inline.yaml');
    assert.equal(selectWebhook(e, ns('a'), {}), undefined);
    assert.equal(e[0]!.failurePolicy, 'Fail', 'failurePolicy defaults to Fail, as in admissionregistration/v1');
  });
});
