// The decision engine on its own: decision order (Deny beats Allow, an Allow that selects must match,
// the Mesh default), who a rule's `from` means (unauthenticated vs "*", literal globs), opaque
// connections against HTTP conditions (fail closed), and everything malformed failing closed.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Action, type discovery } from '@skein/api';
import { PolicyIndex, callerOf } from './rules.js';

type Perm = discovery.TrafficPermission;
type Src = Partial<discovery.Source>;
type Dst = Partial<discovery.Destination>;

function perm(name: string, action: Action, from: Src[] = [], to: Dst[] = []): Perm {
  return {
    name, namespace: 'shop', selectorMatchLabels: { app: 'orders' }, action,
    from: from.map((s) => ({ serviceAccounts: [], namespaces: [], ...s })),
    to: to.map((d) => ({ ports: [], methods: [], paths: [], ...d })),
  };
}
const allow = (name: string, from?: Src[], to?: Dst[]): Perm => perm(name, Action.ACTION_ALLOW, from, to);
const deny = (name: string, from?: Src[], to?: Dst[]): Perm => perm(name, Action.ACTION_DENY, from, to);

const FRONTEND = 'spiffe://cluster.local/ns/shop/sa/frontend';
const BILLS = 'spiffe://cluster.local/ns/shop/sa/bills';
const OTHER_NS = 'spiffe://cluster.local/ns/evil/sa/frontend';

/** [allowed, policy] of one HTTP request. */
function req(index: PolicyIndex, peer: string | undefined, method: string, path: string | undefined, port = 8080): [boolean, string] {
  const d = index.forConnection(peer, port).request(method, path);
  return [d.allowed, d.policy];
}
function tcp(index: PolicyIndex, peer: string | undefined, port = 8080): [boolean, string] {
  const d = index.forConnection(peer, port).l4();
  return [d.allowed, d.policy];
}

const ordersFromFrontend = allow('orders-from-frontend', [{ serviceAccounts: ['shop/frontend'] }], [{ ports: [8080], methods: ['GET'], paths: ['/orders', '/orders/*'] }]);

describe('decision order', () => {
  it('no policy: the Mesh default decides, Allow or Deny (unspecified = Allow, as skein-cp sends it)', () => {
    assert.deepEqual(req(new PolicyIndex([], Action.ACTION_ALLOW), FRONTEND, 'GET', '/x'), [true, 'default']);
    assert.deepEqual(req(new PolicyIndex([], Action.ACTION_DENY), FRONTEND, 'GET', '/x'), [false, 'default']);
    assert.deepEqual(tcp(new PolicyIndex([], Action.ACTION_DENY), undefined), [false, 'default']);
    assert.deepEqual(req(new PolicyIndex([], undefined), undefined, 'GET', '/x'), [true, 'default']);
  });

  it('an Allow that selects the workload must match: frontend GET /orders/* only, not POST, other paths, bills', () => {
    for (const def of [Action.ACTION_ALLOW, Action.ACTION_DENY]) {
      const index = new PolicyIndex([ordersFromFrontend], def);
      assert.deepEqual(req(index, FRONTEND, 'GET', '/orders/1'), [true, 'shop/orders-from-frontend']);
      assert.deepEqual(req(index, FRONTEND, 'GET', '/orders'), [true, 'shop/orders-from-frontend']);
      assert.deepEqual(req(index, FRONTEND, 'POST', '/orders/1'), [false, 'shop/orders-from-frontend']);
      assert.deepEqual(req(index, FRONTEND, 'GET', '/admin'), [false, 'shop/orders-from-frontend']);
      assert.deepEqual(req(index, FRONTEND, 'GET', '/ordersX'), [false, 'shop/orders-from-frontend']);
      assert.deepEqual(req(index, FRONTEND, 'GET', '/orders/1', 9090), [false, 'shop/orders-from-frontend']);
      assert.deepEqual(req(index, BILLS, 'GET', '/orders/1'), [false, 'shop/orders-from-frontend']);
      assert.deepEqual(req(index, undefined, 'GET', '/orders/1'), [false, 'shop/orders-from-frontend']);
    }
  });

  it('a matching Deny beats an Allow, whatever their order', () => {
    const d = deny('no-admin', [], [{ paths: ['/orders/admin/*'] }]);
    const all = allow('all-frontend', [{ serviceAccounts: ['shop/frontend'] }]);
    for (const policies of [[d, all], [all, d]]) {
      const index = new PolicyIndex(policies, Action.ACTION_ALLOW);
      assert.deepEqual(req(index, FRONTEND, 'GET', '/orders/admin/x'), [false, 'shop/no-admin']);
      assert.deepEqual(req(index, FRONTEND, 'GET', '/orders/1'), [true, 'shop/all-frontend']);
      assert.deepEqual(req(index, BILLS, 'GET', '/orders/1'), [false, 'shop/all-frontend']);
    }
  });

  it('a Deny alone selects nothing to allow: the rest falls to the default', () => {
    const index = new PolicyIndex([deny('no-bills', [{ serviceAccounts: ['shop/bills'] }])], Action.ACTION_ALLOW);
    assert.deepEqual(req(index, BILLS, 'GET', '/'), [false, 'shop/no-bills']);
    assert.deepEqual(tcp(index, BILLS), [false, 'shop/no-bills']);
    assert.deepEqual(req(index, FRONTEND, 'GET', '/'), [true, 'default']);
  });

  it('the deciding policy is named deterministically (sorted by namespace/name)', () => {
    const a = allow('b-second', [], []);
    const b = allow('a-first', [], []);
    assert.deepEqual(req(new PolicyIndex([a, b], Action.ACTION_DENY), FRONTEND, 'GET', '/'), [true, 'shop/a-first']);
    assert.deepEqual(req(new PolicyIndex([b, a], Action.ACTION_DENY), FRONTEND, 'GET', '/'), [true, 'shop/a-first']);
  });
});

describe('sources', () => {
  it('unauthenticated callers match only an absent `from`; "*" means any authenticated caller', () => {
    const anyAuth = new PolicyIndex([allow('any-sa', [{ serviceAccounts: ['*'] }])], Action.ACTION_DENY);
    assert.deepEqual(req(anyAuth, OTHER_NS, 'GET', '/'), [true, 'shop/any-sa']);
    assert.deepEqual(req(anyAuth, undefined, 'GET', '/'), [false, 'shop/any-sa']);
    const anyNs = new PolicyIndex([allow('any-ns', [{ namespaces: ['*'] }])], Action.ACTION_DENY);
    assert.deepEqual(tcp(anyNs, FRONTEND), [true, 'shop/any-ns']);
    assert.deepEqual(tcp(anyNs, undefined), [false, 'shop/any-ns']);
    const anyone = new PolicyIndex([allow('anyone')], Action.ACTION_DENY);
    assert.deepEqual(tcp(anyone, undefined), [true, 'shop/anyone']);
    // A Deny for authenticated callers does not make plaintext allowed by it either: the default decides.
    const denyAuth = new PolicyIndex([deny('no-mesh', [{ namespaces: ['*'] }])], Action.ACTION_DENY);
    assert.deepEqual(tcp(denyAuth, undefined), [false, 'default']);
    assert.deepEqual(tcp(denyAuth, FRONTEND), [false, 'shop/no-mesh']);
  });

  it('serviceAccounts and namespaces of one entry must both match; entries are alternatives', () => {
    const both = new PolicyIndex([allow('both', [{ serviceAccounts: ['*/frontend'], namespaces: ['shop'] }, { serviceAccounts: ['shop/bills'] }])], Action.ACTION_DENY);
    assert.deepEqual(tcp(both, FRONTEND), [true, 'shop/both']);
    assert.deepEqual(tcp(both, OTHER_NS), [false, 'shop/both']);
    assert.deepEqual(tcp(both, BILLS), [true, 'shop/both']);
  });

  it('globs are literal: "." is a dot, "*" never spans "/", no regular expression', () => {
    const cases: Array<[string, string, boolean]> = [
      ['shop/front.nd', 'shop/frontend', false],
      ['shop/fronten.', 'shop/frontend', false],
      ['shop/.*', 'shop/frontend', false],
      ['shop/*', 'shop/frontend', true],
      ['shop/fr*d', 'shop/frontend', true],
      ['shop/*end', 'shop/frontend', true],
      ['*/frontend', 'shop/frontend', true],
      ['sh*', 'shop/frontend', false],
      ['*nd', 'shop/frontend', false],
      ['shop/f*n*d', 'shop/frontend', true],
      ['shop/f*x*d', 'shop/frontend', false],
      ['shop/frontend', 'shop/frontend', true],
      ['shop/[f]rontend', 'shop/frontend', false],
      ['shop/frontend|bills', 'shop/bills', false],
      ['^shop/frontend$', 'shop/frontend', false],
    ];
    for (const [pattern, sa, expected] of cases) {
      const index = new PolicyIndex([allow('p', [{ serviceAccounts: [pattern] }])], Action.ACTION_DENY);
      const [ns, name] = sa.split('/') as [string, string];
      assert.equal(tcp(index, `spiffe://cluster.local/ns/${ns}/sa/${name}`)[0], expected, `${pattern} vs ${sa}`);
    }
    const dots = new PolicyIndex([allow('p', [{ namespaces: ['a.b'] }])], Action.ACTION_DENY);
    assert.equal(tcp(dots, 'spiffe://cluster.local/ns/axb/sa/x')[0], false);
  });

  it('rules filed by exact names still match, in decision order, alongside general ones', () => {
    const index = new PolicyIndex([
      allow('c-ns', [{ namespaces: ['shop'] }], [{ paths: ['/ns'] }]),
      allow('b-sa-or-ns', [{ serviceAccounts: ['shop/frontend'] }, { namespaces: ['evil'] }], [{ paths: ['/sa'] }]),
      allow('a-general', [{ serviceAccounts: ['*/frontend'] }], [{ paths: ['/sa', '/general'] }]),
      deny('d-exact', [{ serviceAccounts: ['shop/bills'] }]),
    ], Action.ACTION_DENY);
    assert.deepEqual(req(index, FRONTEND, 'GET', '/ns'), [true, 'shop/c-ns']);
    assert.deepEqual(req(index, FRONTEND, 'GET', '/sa'), [true, 'shop/a-general']);
    assert.deepEqual(req(index, OTHER_NS, 'GET', '/sa'), [true, 'shop/a-general']);
    assert.deepEqual(req(index, 'spiffe://cluster.local/ns/evil/sa/x', 'GET', '/sa'), [true, 'shop/b-sa-or-ns']);
    assert.deepEqual(req(index, 'spiffe://cluster.local/ns/evil/sa/x', 'GET', '/ns'), [false, 'shop/b-sa-or-ns']);
    assert.deepEqual(req(index, BILLS, 'GET', '/ns'), [false, 'shop/d-exact']);
    assert.deepEqual(req(index, undefined, 'GET', '/general'), [false, 'shop/a-general']);
  });

  it('an identity that is not ns/sa: a Deny takes it as matching, an Allow only through "*"', () => {
    assert.deepEqual(callerOf('spiffe://cluster.local/ns/shop/sa/frontend'), { id: FRONTEND, namespace: 'shop', serviceAccount: 'frontend' });
    const odd = 'spiffe://cluster.local/workload/x';
    assert.deepEqual(tcp(new PolicyIndex([allow('p', [{ serviceAccounts: ['shop/*'] }])], Action.ACTION_ALLOW), odd), [false, 'shop/p']);
    assert.deepEqual(tcp(new PolicyIndex([allow('p', [{ serviceAccounts: ['*'] }])], Action.ACTION_DENY), odd), [true, 'shop/p']);
    assert.deepEqual(tcp(new PolicyIndex([deny('p', [{ serviceAccounts: ['evil/*'] }])], Action.ACTION_ALLOW), odd), [false, 'shop/p']);
  });
});

describe('requests', () => {
  it('methods compare exactly after upper-casing (the rule side too); a Deny of GET covers HEAD', () => {
    const index = new PolicyIndex([allow('get', [], [{ methods: ['get'] }])], Action.ACTION_DENY);
    assert.deepEqual(req(index, FRONTEND, 'GET', '/'), [true, 'shop/get']);
    assert.deepEqual(req(index, FRONTEND, 'HEAD', '/'), [false, 'shop/get']);
    assert.deepEqual(req(index, FRONTEND, 'GETX', '/'), [false, 'shop/get']);
    const d = new PolicyIndex([deny('no-get', [], [{ methods: ['GET'] }])], Action.ACTION_ALLOW);
    assert.deepEqual(req(d, FRONTEND, 'HEAD', '/'), [false, 'shop/no-get']);
    assert.deepEqual(req(d, FRONTEND, 'POST', '/'), [true, 'default']);
  });

  it('/ORDERS: an Allow matches the exact case; a Deny any case and with or without a trailing slash', () => {
    const a = new PolicyIndex([ordersFromFrontend], Action.ACTION_ALLOW);
    assert.deepEqual(req(a, FRONTEND, 'GET', '/ORDERS/1'), [false, 'shop/orders-from-frontend']);
    assert.deepEqual(req(a, FRONTEND, 'GET', '/Orders'), [false, 'shop/orders-from-frontend']);
    const d = new PolicyIndex([deny('no-admin', [], [{ paths: ['/admin', '/internal/*'] }])], Action.ACTION_ALLOW);
    for (const path of ['/admin', '/ADMIN', '/Admin/', '/admin/', '/internal/x', '/INTERNAL/X', '/internal', '/internal/']) {
      assert.deepEqual(req(d, FRONTEND, 'GET', path), [false, 'shop/no-admin'], path);
    }
    for (const path of ['/admin/x', '/adminx', '/internalx', '/']) assert.deepEqual(req(d, FRONTEND, 'GET', path), [true, 'default'], path);
  });

  it('"*" is every path; "/x/*" a prefix under /x/; patterns are normalised like requests', () => {
    const index = new PolicyIndex([allow('p', [], [{ paths: ['/a/./b/../c', '/%6Frders/*'] }]), allow('all', [], [{ methods: ['DELETE'], paths: ['*'] }])], Action.ACTION_DENY);
    assert.deepEqual(req(index, FRONTEND, 'GET', '/a/c'), [true, 'shop/p']);
    assert.deepEqual(req(index, FRONTEND, 'GET', '/orders/1/2'), [true, 'shop/p']);
    assert.deepEqual(req(index, FRONTEND, 'GET', '/orders'), [false, 'shop/all']);
    assert.deepEqual(req(index, FRONTEND, 'DELETE', '/anything'), [true, 'shop/all']);
    // CONNECT or `OPTIONS *` have no path: an Allow with paths does not match them ("*" does).
    assert.deepEqual(req(index, FRONTEND, 'GET', undefined), [false, 'shop/all']);
    assert.deepEqual(req(index, FRONTEND, 'DELETE', undefined), [true, 'shop/all']);
  });

  it('a Deny with paths applies to a request without a path', () => {
    const index = new PolicyIndex([deny('d', [], [{ paths: ['/admin'] }])], Action.ACTION_ALLOW);
    assert.deepEqual(req(index, FRONTEND, 'CONNECT', undefined), [false, 'shop/d']);
  });
});

describe('opaque connections and failing closed', () => {
  it('a rule with methods or paths on an opaque connection: an Allow never matches, a Deny denies on its other conditions', () => {
    const a = new PolicyIndex([allow('http-only', [{ serviceAccounts: ['shop/frontend'] }], [{ ports: [6379], methods: ['GET'] }])], Action.ACTION_ALLOW);
    assert.deepEqual(tcp(a, FRONTEND, 6379), [false, 'shop/http-only']);
    const d = new PolicyIndex([deny('http-only', [{ serviceAccounts: ['shop/bills'] }], [{ ports: [6379], paths: ['/admin'] }])], Action.ACTION_ALLOW);
    assert.deepEqual(tcp(d, BILLS, 6379), [false, 'shop/http-only']);
    assert.deepEqual(tcp(d, FRONTEND, 6379), [true, 'default']);
    assert.deepEqual(tcp(d, BILLS, 6380), [true, 'default']);
    const l4 = new PolicyIndex([allow('redis', [{ serviceAccounts: ['shop/frontend'] }], [{ ports: [6379] }])], Action.ACTION_DENY);
    assert.deepEqual(tcp(l4, FRONTEND, 6379), [true, 'shop/redis']);
    assert.deepEqual(tcp(l4, BILLS, 6379), [false, 'shop/redis']);
    assert.deepEqual(tcp(l4, FRONTEND, 6380), [false, 'shop/redis']);
  });

  it('an unknown action is a Deny', () => {
    const index = new PolicyIndex([perm('odd', 7 as Action), perm('unset', Action.ACTION_UNSPECIFIED)], Action.ACTION_ALLOW);
    assert.deepEqual(req(index, FRONTEND, 'GET', '/'), [false, 'shop/odd']);
    assert.match(index.rules[0]?.problems[0] ?? '', /unknown action/);
  });

  it('a bad path pattern: a Deny denies every path, an Allow allows none', () => {
    const d = new PolicyIndex([deny('bad', [], [{ paths: ['/a*b'] }])], Action.ACTION_ALLOW);
    assert.deepEqual(req(d, FRONTEND, 'GET', '/x'), [false, 'shop/bad']);
    for (const bad of ['/a*b', 'orders', '/a%2Fb', '/x?y', '/a/../..\\b']) {
      const a = new PolicyIndex([allow('bad', [], [{ paths: [bad] }])], Action.ACTION_DENY);
      assert.deepEqual(req(a, FRONTEND, 'GET', bad), [false, 'shop/bad'], bad);
      assert.deepEqual(req(a, FRONTEND, 'GET', '/a'), [false, 'shop/bad'], bad);
    }
  });

  it('an empty `from` entry (skein-cp refuses it): every caller in a Deny, none in an Allow', () => {
    assert.deepEqual(tcp(new PolicyIndex([deny('d', [{}])], Action.ACTION_ALLOW), undefined), [false, 'shop/d']);
    assert.deepEqual(tcp(new PolicyIndex([allow('a', [{}])], Action.ACTION_ALLOW), FRONTEND), [false, 'shop/a']);
  });

  it('ports out of range: ignored; a Deny with only bad ports applies to every port, an Allow to none', () => {
    assert.deepEqual(tcp(new PolicyIndex([deny('d', [], [{ ports: [0, 70000] }])], Action.ACTION_ALLOW), FRONTEND, 1), [false, 'shop/d']);
    assert.deepEqual(tcp(new PolicyIndex([allow('a', [], [{ ports: [70000] }])], Action.ACTION_ALLOW), FRONTEND, 70000 % 65536), [false, 'shop/a']);
  });

  it('the fail-closed "deny everything for this selector" encoding: Deny, empty from, empty to', () => {
    const index = new PolicyIndex([deny('broken'), ordersFromFrontend], Action.ACTION_ALLOW);
    assert.deepEqual(req(index, FRONTEND, 'GET', '/orders/1'), [false, 'shop/broken']);
    assert.deepEqual(tcp(index, undefined), [false, 'shop/broken']);
  });
});
