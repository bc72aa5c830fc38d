import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { discovery } from '@skein/api';
import {
  buildBalancer, cookieValue, effectiveWeight, leastRequest, LoadTable, release, ringHash, roundRobin, start, weighted,
  type Balanced,
} from './index.js';

const table = new LoadTable();
const ep = (i: number, weight = 100): Balanced => ({ key: `10.0.0.${i}:8080`, weight, load: table.get(`10.0.0.${i}:8080`) });
const eps = (n: number): Balanced[] => Array.from({ length: n }, (_, i) => ep(i + 1));

function counts(picks: (Balanced | undefined)[]): Map<string, number> {
  const out = new Map<string, number>();
  for (const p of picks) { assert.ok(p); out.set(p.key, (out.get(p.key) ?? 0) + 1); }
  return out;
}

describe('round robin', () => {
  it('spreads 3000 picks exactly evenly over three endpoints', () => {
    const b = roundRobin(eps(3));
    const c = counts(Array.from({ length: 3000 }, () => b.pick(undefined)));
    assert.deepEqual([...c.values()], [1000, 1000, 1000]);
  });
  it('skips excluded endpoints, undefined when all are', () => {
    const list = eps(3);
    const b = roundRobin(list);
    const c = counts(Array.from({ length: 100 }, () => b.pick(undefined, (e) => e === list[1])));
    assert.equal(c.get(list[1]!.key), undefined);
    assert.equal(c.get(list[0]!.key), 50);
    assert.equal(b.pick(undefined, () => true), undefined);
  });
});

describe('smooth weighted round robin', () => {
  it('gives each endpoint its share of the weights, interleaved', () => {
    const list = [ep(1, 500), ep(2, 300), ep(3, 200)];
    const b = weighted(list);
    const picks = Array.from({ length: 10_000 }, () => b.pick(undefined));
    const c = counts(picks);
    assert.equal(c.get(list[0]!.key), 5000);
    assert.equal(c.get(list[1]!.key), 3000);
    assert.equal(c.get(list[2]!.key), 2000);
    // Smooth: the heaviest never wins more than 2 picks in a row with these weights (plain WRR would give 5).
    let run = 0; let max = 0;
    for (let i = 0; i < picks.length; i++) { run = i > 0 && picks[i] === picks[i - 1] ? run + 1 : 1; max = Math.max(max, run); }
    assert.ok(max <= 2, `longest run ${max}`);
  });
  it('an excluded endpoint gets nothing and the rest keep their ratio', () => {
    const list = [ep(1, 100), ep(2, 300), ep(3, 100)];
    const b = weighted(list);
    const c = counts(Array.from({ length: 4000 }, () => b.pick(undefined, (e) => e === list[0])));
    assert.equal(c.get(list[0]!.key), undefined);
    assert.equal(c.get(list[1]!.key), 3000);
    assert.equal(c.get(list[2]!.key), 1000);
  });
  it('weights: 0 means 100, capped at 1000', () => {
    assert.equal(effectiveWeight(0), 100);
    assert.equal(effectiveWeight(7), 7);
    assert.equal(effectiveWeight(5000), 1000);
  });
});

describe('least request (power of two choices)', () => {
  it('prefers the less loaded endpoint', () => {
    const t = new LoadTable();
    const list = [1, 2, 3, 4].map((i) => ({ key: `e${i}`, weight: 100, load: t.get(`e${i}`) }));
    list[0]!.load.inFlight = 50; list[1]!.load.inFlight = 50; list[2]!.load.inFlight = 50; // e4 is idle
    const b = leastRequest(list);
    const c = counts(Array.from({ length: 4000 }, () => b.pick(undefined)));
    // e4 is in a pair half of the time and then always wins: ~50 %, the others ~1/6 each.
    assert.ok(c.get('e4')! > 1600, `idle endpoint got ${c.get('e4')}`);
    for (const k of ['e1', 'e2', 'e3']) assert.ok(c.get(k)! < 1000, `${k} got ${c.get(k)}`);
  });
  it('start/release track in-flight requests and a loaded endpoint stops being chosen over an idle one', () => {
    const t = new LoadTable();
    const list = [{ key: 'a', weight: 100, load: t.get('a') }, { key: 'b', weight: 100, load: t.get('b') }];
    const b = leastRequest(list);
    for (let i = 0; i < 10; i++) start(list[0]!);
    for (let i = 0; i < 100; i++) assert.equal(b.pick(undefined), list[1]);
    for (let i = 0; i < 11; i++) release(list[0]!);
    assert.equal(list[0]!.load.inFlight, 0);
    assert.equal(b.pick(undefined, (e) => e.key === 'b'), list[0]);
    assert.equal(b.pick(undefined, () => true), undefined);
  });
  it('counters survive a new snapshot for endpoints that stay; prune drops the others', () => {
    const t = new LoadTable();
    t.get('a').inFlight = 3;
    t.get('b').inFlight = 1;
    t.prune(new Set(['a']));
    assert.equal(t.get('a').inFlight, 3);
    assert.equal(t.size, 1);
  });
});

describe('consistent hashing ring', () => {
  const keys = Array.from({ length: 10_000 }, (_, i) => `user-${i}`);
  it('one key always lands on one endpoint, whatever the order of the endpoints', () => {
    const list = eps(5);
    const a = ringHash(list);
    const b = ringHash([...list].reverse());
    for (const k of keys.slice(0, 1000)) {
      const first = a.pick(k);
      assert.equal(a.pick(k), first);
      assert.equal(b.pick(k), first);
    }
  });
  it('spreads keys roughly evenly', () => {
    const b = ringHash(eps(5));
    const c = counts(keys.map((k) => b.pick(k)));
    for (const [k, n] of c) assert.ok(n > 1200 && n < 2800, `${k}: ${n} of 10000`);
  });
  it('removing one endpoint of five moves only its keys (~1/5)', () => {
    const list = eps(5);
    const before = ringHash(list);
    const removed = list[2]!;
    const after = ringHash(list.filter((e) => e !== removed));
    let moved = 0;
    for (const k of keys) {
      const was = before.pick(k)!;
      const now = after.pick(k)!;
      if (was !== removed) assert.equal(now, was, `key ${k} moved though its endpoint stayed`);
      else moved++;
    }
    assert.ok(moved > 1200 && moved < 2800, `moved ${moved}`);
  });
  it('an excluded owner passes its keys on, the others keep theirs', () => {
    const list = eps(4);
    const b = ringHash(list);
    for (const k of keys.slice(0, 500)) {
      const owner = b.pick(k)!;
      const other = b.pick(k, (e) => e === owner)!;
      assert.notEqual(other, owner);
      assert.equal(b.pick(k, (e) => e === owner), other);
    }
  });
  it('without a key it is round robin', () => {
    const b = ringHash(eps(2));
    assert.notEqual(b.pick(undefined), b.pick(undefined));
  });
});

describe('buildBalancer from Service.load_balancer', () => {
  const lb = (policy: number, hashKey = ''): discovery.LoadBalancer => ({ policy, hashKey, invalidAnnotation: '' });
  it('maps each policy and its hash source', () => {
    assert.deepEqual(buildBalancer(undefined, eps(2)).hashOn, { kind: 'none' });
    assert.deepEqual(buildBalancer(lb(4, 'X-User'), eps(2)).hashOn, { kind: 'header', name: 'x-user' });
    assert.deepEqual(buildBalancer(lb(5, 'session'), eps(2)).hashOn, { kind: 'cookie', name: 'session' });
    assert.deepEqual(buildBalancer(lb(6), eps(2)).hashOn, { kind: 'source-ip' });
    // A hash policy without a key falls back to round robin.
    assert.deepEqual(buildBalancer(lb(4), eps(2)).hashOn, { kind: 'none' });
  });
  it('weighted follows the weights', () => {
    const list = [ep(1, 300), ep(2, 100)];
    const b = buildBalancer(lb(3), list);
    const c = counts(Array.from({ length: 400 }, () => b.pick(undefined)));
    assert.equal(c.get(list[0]!.key), 300);
  });
  it('cookieValue finds a cookie among others', () => {
    assert.equal(cookieValue('a=1; session=abc; b=2', 'session'), 'abc');
    assert.equal(cookieValue('a=1', 'session'), undefined);
    assert.equal(cookieValue(undefined, 'session'), undefined);
  });
});
