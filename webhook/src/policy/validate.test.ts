// Each bad input, what makes it bad, and what it becomes (fail closed: an invalid Deny denies everything
// for its selector, an invalid Allow allows nothing); the checks the CRD schema cannot make.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { Action } from '@skein/api';
import { desiredConditions } from './conditions.js';
import { methodProblem, namespaceProblem, pathProblem, serviceAccountProblem, validateTrafficPermission } from './validate.js';
import type { Verdict } from './types.js';

const tp = (spec: unknown, meta: Record<string, unknown> = {}): Verdict =>
  validateTrafficPermission({ apiVersion: 'skein.io/v1alpha1', kind: 'TrafficPermission', metadata: { name: 'p', namespace: 'shop', generation: 3, ...meta }, spec });

const allowFrontend = { selector: { matchLabels: { app: 'orders' } }, action: 'Allow', from: [{ serviceAccounts: ['shop/frontend'] }], to: [{ ports: [8080], methods: ['GET'], paths: ['/orders', '/orders/*'] }] };

const DENY_ALL = { action: Action.ACTION_DENY, from: [], to: [] };
const ALLOW_NOTHING = { action: Action.ACTION_ALLOW, from: [], to: [{ ports: [0], methods: [], paths: [] }] };

describe('a valid TrafficPermission', () => {
  test('is sent as written, with its name, namespace and selector labels', () => {
    const v = tp(allowFrontend);
    assert.deepEqual(v.problems, []);
    assert.equal(v.effect, 'enforced');
    assert.deepEqual(v.wire, {
      name: 'p', namespace: 'shop', selectorMatchLabels: { app: 'orders' }, action: Action.ACTION_ALLOW,
      from: [{ serviceAccounts: ['shop/frontend'], namespaces: [] }], to: [{ ports: [8080], methods: ['GET'], paths: ['/orders', '/orders/*'] }],
    });
    const [valid, accepted] = desiredConditions(v);
    assert.deepEqual([valid?.type, valid?.status, valid?.reason, valid?.observedGeneration], ['Valid', 'True', 'Valid', 3]);
    assert.deepEqual([accepted?.type, accepted?.status, accepted?.reason], ['Accepted', 'True', 'Enforced']);
  });

  test('absent from/to/selector mean any source, everything, every pod; a Deny stays a Deny', () => {
    const v = tp({ action: 'Deny' });
    assert.equal(v.effect, 'enforced');
    assert.deepEqual({ action: v.wire.action, from: v.wire.from, to: v.wire.to, sel: v.wire.selectorMatchLabels }, { ...DENY_ALL, sel: {} });
  });

  test('globs that are valid: "*", "shop/*", "*/frontend", "shop-*", "*" namespaces; "/*" and "*" paths; tokens', () => {
    const v = tp({ action: 'Allow', from: [{ serviceAccounts: ['*', 'shop/*', '*/frontend', 'a*b/c*d'] }, { namespaces: ['*', 'shop-*'] }], to: [{ paths: ['*', '/*', '/a/b/*', '/%20x', '/~user'], methods: ['GET', 'M-SEARCH', 'PROPFIND'] }] });
    assert.deepEqual(v.problems, []);
  });

  test('selector labels are sorted (the same selector in another order gives the same bytes)', () => {
    assert.deepEqual(Object.keys(tp({ action: 'Allow', selector: { matchLabels: { z: '1', a: '2', m: '3' } } }).wire.selectorMatchLabels), ['a', 'm', 'z']);
  });

  test('a ".*" in a service account is a literal dot: valid, with a warning in Accepted', () => {
    const v = tp({ action: 'Allow', from: [{ serviceAccounts: ['shop/front.*'] }] });
    assert.equal(v.effect, 'enforced');
    assert.match(v.warnings[0] ?? '', /literal globs, not regular expressions/);
    assert.equal(desiredConditions(v)[1]?.reason, 'EnforcedWithWarnings');
  });
});

// [what, spec, problem pattern]
const BAD_ALLOW: [string, unknown, RegExp][] = [
  ['unknown field in spec (a typo would read as "any source")', { ...allowFrontend, from: undefined, sources: [{ serviceAccounts: ['shop/frontend'] }] }, /spec\.sources is not a field/],
  ['empty from entry', { ...allowFrontend, from: [{}] }, /spec\.from\[0\] is empty, which would mean any source/],
  ['from: [] (reads as absent = any source)', { ...allowFrontend, from: [] }, /spec\.from is an empty list/],
  ['to: []', { ...allowFrontend, to: [] }, /spec\.to is an empty list/],
  ['empty to entry', { ...allowFrontend, to: [{}] }, /spec\.to\[0\] is empty, which would mean anything/],
  ['from entry with a misspelt field', { ...allowFrontend, from: [{ serviceAccount: ['shop/frontend'] }] }, /spec\.from\[0\]\.serviceAccount is not a field/],
  ['serviceAccounts: []', { ...allowFrontend, from: [{ serviceAccounts: [] }] }, /serviceAccounts is an empty list/],
  ['service account without namespace', { ...allowFrontend, from: [{ serviceAccounts: ['frontend'] }] }, /is not "<namespace>\/<serviceaccount>"/],
  ['service account as a SPIFFE ID', { ...allowFrontend, from: [{ serviceAccounts: ['spiffe://cluster.local/ns/shop/sa/frontend'] }] }, /is a SPIFFE ID/],
  ['service account regex', { ...allowFrontend, from: [{ serviceAccounts: ['shop/front(end|ed)'] }] }, /looks like a regular expression/],
  ['service account regex ^...$', { ...allowFrontend, from: [{ serviceAccounts: ['^shop/.+$'] }] }, /looks like a regular expression/],
  ['service account upper case', { ...allowFrontend, from: [{ serviceAccounts: ['Shop/Frontend'] }] }, /upper-case/],
  ['service account three parts', { ...allowFrontend, from: [{ serviceAccounts: ['shop/a/b'] }] }, /is not "<namespace>\/<serviceaccount>"/],
  ['service account empty', { ...allowFrontend, from: [{ serviceAccounts: [''] }] }, /an empty service account/],
  ['service account not a string', { ...allowFrontend, from: [{ serviceAccounts: [7] }] }, /must be a string/],
  ['namespace with a dot', { ...allowFrontend, from: [{ namespaces: ['shop.prod'] }] }, /is not a namespace name/],
  ['namespace regex', { ...allowFrontend, from: [{ namespaces: ['shop|bills'] }] }, /looks like a regular expression/],
  ['port 0', { ...allowFrontend, to: [{ ports: [0] }] }, /0 is not a port/],
  ['port 65536', { ...allowFrontend, to: [{ ports: [65536] }] }, /65536 is not a port/],
  ['port as a string', { ...allowFrontend, to: [{ ports: ['8080'] }] }, /"8080" is not a port/],
  ['port fractional', { ...allowFrontend, to: [{ ports: [80.5] }] }, /80\.5 is not a port/],
  ['method lower case', { ...allowFrontend, to: [{ methods: ['get'] }] }, /write it in upper case \("GET"\)/],
  ['method with a space', { ...allowFrontend, to: [{ methods: ['GET POST'] }] }, /is not an HTTP method token/],
  ['method wildcard', { ...allowFrontend, to: [{ methods: ['*'] }] }, /methods have no wildcard/],
  ['path without leading slash', { ...allowFrontend, to: [{ paths: ['orders'] }] }, /does not start with "\/"/],
  ['path with * inside', { ...allowFrontend, to: [{ paths: ['/orders/*/items'] }] }, /"\*" is allowed only as a trailing/],
  ['path with a regex', { ...allowFrontend, to: [{ paths: ['/orders/.*'] }] }, /"\*" is allowed only as a trailing/],
  ['path glob without slash', { ...allowFrontend, to: [{ paths: ['/orders*'] }] }, /"\*" is allowed only as a trailing/],
  ['path "**"', { ...allowFrontend, to: [{ paths: ['**'] }] }, /does not start with "\/"/],
  ['path with a dot segment', { ...allowFrontend, to: [{ paths: ['/orders/../admin'] }] }, /"\." or "\.\." segment/],
  ['path with "//"', { ...allowFrontend, to: [{ paths: ['//orders'] }] }, /has "\/\/"/],
  ['path with an encoded unreserved char', { ...allowFrontend, to: [{ paths: ['/%6Frders'] }] }, /"%6F" is "o"/],
  ['path with an encoded slash', { ...allowFrontend, to: [{ paths: ['/orders%2F..%2Fadmin'] }] }, /encoded "\/" or "\\"/],
  ['path with lower-case hex', { ...allowFrontend, to: [{ paths: ['/a%2fb'] }] }, /upper case \("%2F"\)/],
  ['path with an invalid escape', { ...allowFrontend, to: [{ paths: ['/a%zz'] }] }, /invalid escape/],
  ['path with an encoded NUL', { ...allowFrontend, to: [{ paths: ['/a%00'] }] }, /control character/],
  ['path with a raw NUL', { ...allowFrontend, to: [{ paths: ['/a\u0000'] }] }, /NUL or control/],
  ['path with a raw non-ASCII character', { ...allowFrontend, to: [{ paths: ['/café'] }] }, /outside ASCII.*%C3%A9/],
  ['path with a backslash', { ...allowFrontend, to: [{ paths: ['/orders\\admin'] }] }, /backslash/],
  ['path with ;params', { ...allowFrontend, to: [{ paths: ['/orders;v=1'] }] }, /";"/],
  ['path with a query', { ...allowFrontend, to: [{ paths: ['/orders?id=1'] }] }, /query or fragment/],
  ['path with a fragment', { ...allowFrontend, to: [{ paths: ['/orders#x'] }] }, /query or fragment/],
  ['selector with an unknown operator', { ...allowFrontend, selector: { matchExpressions: [{ key: 'app', operator: 'Matches', values: ['o.*'] }] } }, /is not one of In, NotIn/],
  ['selector In without values', { ...allowFrontend, selector: { matchExpressions: [{ key: 'app', operator: 'In' }] } }, /needs at least one value/],
  ['selector Exists with values', { ...allowFrontend, selector: { matchExpressions: [{ key: 'app', operator: 'Exists', values: ['x'] }] } }, /takes no values/],
  ['selector label value that no pod can have', { ...allowFrontend, selector: { matchLabels: { app: 'orders*' } } }, /is not a label value/],
  ['selector with a misspelt field', { ...allowFrontend, selector: { matchLabel: { app: 'orders' } } }, /spec\.selector\.matchLabel is not a field/],
  ['too many from entries', { ...allowFrontend, from: Array.from({ length: 65 }, () => ({ namespaces: ['shop'] })) }, /spec\.from has 65 items; at most 64/],
];

describe('an invalid Allow allows nothing (its pods still need another Allow; never the Mesh default)', () => {
  for (const [what, spec, problem] of BAD_ALLOW) {
    test(what, () => {
      const v = tp(spec);
      assert.ok(v.problems.some((p) => problem.test(p)), `expected ${String(problem)} in:\n${v.problems.join('\n')}`);
      assert.equal(v.effect, 'allow-nothing');
      assert.deepEqual({ action: v.wire.action, from: v.wire.from, to: v.wire.to }, ALLOW_NOTHING);
      const [valid, accepted] = desiredConditions(v);
      assert.deepEqual([valid?.status, valid?.reason], ['False', 'Invalid']);
      assert.ok(problem.test(valid?.message ?? ''), valid?.message);
      assert.deepEqual([accepted?.status, accepted?.reason], ['False', 'AllowsNothing']);
    });
  }
});

describe('an invalid Deny denies everything for its selector (fail closed)', () => {
  for (const [what, spec, problem] of BAD_ALLOW) {
    test(what, () => {
      const v = tp({ ...(spec as Record<string, unknown>), action: 'Deny' });
      assert.ok(v.problems.some((p) => problem.test(p)), v.problems.join('\n'));
      assert.equal(v.effect, 'deny-all');
      assert.deepEqual({ action: v.wire.action, from: v.wire.from, to: v.wire.to }, DENY_ALL);
      assert.equal(desiredConditions(v)[1]?.reason, 'FailClosed');
    });
  }

  test('the selector is kept when it is readable; an unreadable one selects every pod of the namespace', () => {
    assert.deepEqual(tp({ action: 'Deny', selector: { matchLabels: { app: 'orders' } }, to: [{ paths: ['/a/../b'] }] }).wire.selectorMatchLabels, { app: 'orders' });
    const v = tp({ action: 'Deny', selector: { matchLabels: { app: 'orders' }, matchExpressions: [{ key: 'tier', operator: 'Bogus' }] } });
    assert.deepEqual(v.wire.selectorMatchLabels, {});
    assert.deepEqual(v.selector, { matchLabels: {}, matchExpressions: [] });
    assert.match(desiredConditions(v)[1]?.message ?? '', /every pod of namespace shop/);
  });
});

describe('an unknown action', () => {
  test('"Reject", "", a number, missing: denies everything (an action that is not Allow counts as Deny)', () => {
    for (const action of ['Reject', '', 1, undefined]) {
      const v = tp({ ...allowFrontend, action });
      assert.equal(v.effect, 'deny-all', String(action));
      assert.ok(v.problems.some((p) => p.startsWith('spec.action')), v.problems.join('\n'));
      assert.match(desiredConditions(v)[1]?.message ?? '', /not Allow counts as Deny/);
    }
  });

  test('"allow" in the wrong case is an invalid Allow (allows nothing), "deny" an invalid Deny', () => {
    assert.equal(tp({ ...allowFrontend, action: 'allow' }).effect, 'allow-nothing');
    assert.equal(tp({ ...allowFrontend, action: 'DENY' }).effect, 'deny-all');
  });

  test('no spec at all, or a spec that is not an object: deny everything in the namespace', () => {
    for (const spec of [undefined, null, 'Allow', []]) {
      const v = tp(spec);
      assert.equal(v.effect, 'deny-all');
      assert.deepEqual(v.wire.selectorMatchLabels, {});
    }
  });
});

describe('the single-value checks', () => {
  test('paths: what is accepted', () => {
    for (const p of ['*', '/', '/*', '/orders', '/orders/*', '/a.b/c', '/a%20b', '/%E2%82%AC', '/a/.well-known/x', '/a..b']) assert.equal(pathProblem(p), undefined, p);
  });
  test('service accounts and namespaces: what is accepted', () => {
    for (const s of ['*', 'shop/frontend', 'shop/*', '*/*', 'kube-system/coredns', 'shop/my.sa']) assert.equal(serviceAccountProblem(s), undefined, s);
    for (const n of ['*', 'shop', 'shop-*', '*-prod', 'a1']) assert.equal(namespaceProblem(n), undefined, n);
  });
  test('methods: what is accepted', () => {
    for (const m of ['GET', 'POST', 'M-SEARCH', 'BREW']) assert.equal(methodProblem(m), undefined, m);
    assert.match(methodProblem('A'.repeat(33)) ?? '', /longer than 32/);
  });
});
