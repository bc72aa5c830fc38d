// Two replicas agreeing through one Lease, simulated step by step against a shared record with
// resourceVersion semantics (no API server here: the decisions are what is under test).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decide, isLeading, observe, releaseSpec, type LeaseSpecView, type Observation, DEFAULT_TIMINGS } from './lease.js';

const t0 = new Date('2026-03-01T10:00:00Z');
const at = (ms: number): Date => new Date(t0.getTime() + ms);

class Replica {
  obs: Observation | undefined;
  lastRenew: Date | undefined;
  constructor(readonly id: string) {}
  /** One read-decide-write round against `store`; returns whether this replica leads afterwards. */
  step(store: { spec?: LeaseSpecView; rv: number }, now: Date, readRv = store.rv, read = store.spec): boolean {
    if (read) this.obs = observe(this.obs, read, now);
    const d = decide(this.id, read, this.obs, now);
    if (d.kind === 'follow') return false;
    if (readRv !== store.rv) return isLeading(this.lastRenew, now); // 409 Conflict: someone wrote first
    store.spec = d.spec;
    store.rv += 1;
    this.obs = { spec: d.spec, observedAt: now };
    this.lastRenew = now;
    return true;
  }
}

test('first replica creates the Lease and leads; the second follows while it renews', () => {
  const store: { spec?: LeaseSpecView; rv: number } = { rv: 0 };
  const a = new Replica('a');
  const b = new Replica('b');
  assert.equal(decide('a', undefined, undefined, t0).kind, 'create');
  assert.equal(a.step(store, t0), true);
  assert.equal(store.spec?.holderIdentity, 'a');
  assert.equal(store.spec?.leaseDurationSeconds, 15);
  for (let s = 2_000; s <= 60_000; s += 2_000) {
    assert.equal(a.step(store, at(s)), true, `a renews at ${s}`);
    assert.equal(b.step(store, at(s + 1)), false, `b follows at ${s}`);
  }
  assert.equal(store.spec?.holderIdentity, 'a');
  assert.equal(store.spec?.leaseTransitions, 0);
});

test('a follower takes over only after a full lease duration without change, by its own clock', () => {
  const store: { spec?: LeaseSpecView; rv: number } = { rv: 0 };
  const a = new Replica('a');
  const b = new Replica('b');
  a.step(store, t0);
  b.step(store, at(1_000)); // b first sees a's lease at 1 s
  // a dies. b must wait 15 s from when *it* saw the lease, whatever renewTime says.
  assert.equal(b.step(store, at(15_999)), false);
  const d = decide('b', store.spec, b.obs, at(15_999));
  assert.equal(d.kind, 'follow');
  if (d.kind === 'follow') assert.ok(d.retryAt.getTime() <= at(16_000).getTime());
  assert.equal(b.step(store, at(16_000)), true);
  assert.equal(store.spec?.holderIdentity, 'b');
  assert.equal(store.spec?.leaseTransitions, 1);
  assert.equal(store.spec?.acquireTime?.getTime(), at(16_000).getTime());
});

test('a renewTime far in the future (skewed clock) does not make a dead leader immortal', () => {
  const spec: LeaseSpecView = { holderIdentity: 'a', leaseDurationSeconds: 15, renewTime: new Date(t0.getTime() + 3600_000), leaseTransitions: 2 };
  const obs = observe(undefined, spec, t0);
  assert.equal(decide('b', spec, obs, at(14_000)).kind, 'follow');
  const d = decide('b', spec, observe(obs, spec, at(15_000)), at(15_000));
  assert.equal(d.kind, 'update');
  if (d.kind === 'update') assert.equal(d.reason, 'acquire');
});

test('two followers racing for an expired Lease: exactly one wins (resourceVersion)', () => {
  const store: { spec?: LeaseSpecView; rv: number } = { rv: 0 };
  const a = new Replica('a');
  const b = new Replica('b');
  const c = new Replica('c');
  a.step(store, t0);
  b.step(store, at(100));
  c.step(store, at(100));
  const rv = store.rv;
  const read = store.spec;
  const bWins = b.step(store, at(20_000), rv, read);
  const cWins = c.step(store, at(20_000), rv, read);
  assert.equal(bWins, true);
  assert.equal(cWins, false);
  assert.equal(store.spec?.holderIdentity, 'b');
});

test('a released Lease is taken at once', () => {
  const spec = releaseSpec({ holderIdentity: 'a', leaseDurationSeconds: 15, renewTime: t0, leaseTransitions: 3 });
  assert.equal(spec.holderIdentity, '');
  const d = decide('b', spec, observe(undefined, spec, t0), t0);
  assert.equal(d.kind, 'update');
  if (d.kind === 'update') {
    assert.equal(d.reason, 'acquire');
    assert.equal(d.spec.holderIdentity, 'b');
    assert.equal(d.spec.leaseTransitions, 4);
  }
});

test('the holder renews; a leader that cannot renew steps down after the renew deadline', () => {
  const spec: LeaseSpecView = { holderIdentity: 'a', leaseDurationSeconds: 15, renewTime: t0, acquireTime: t0, leaseTransitions: 0 };
  const d = decide('a', spec, undefined, at(2_000));
  assert.equal(d.kind, 'update');
  if (d.kind === 'update') {
    assert.equal(d.reason, 'renew');
    assert.equal(d.spec.renewTime?.getTime(), at(2_000).getTime());
    assert.equal(d.spec.acquireTime?.getTime(), t0.getTime());
  }
  assert.equal(isLeading(t0, at(DEFAULT_TIMINGS.renewDeadlineMs - 1)), true);
  assert.equal(isLeading(t0, at(DEFAULT_TIMINGS.renewDeadlineMs)), false);
  assert.equal(isLeading(undefined, t0), false);
  // Stepping down (10 s) happens before anyone may take over (15 s): never two leaders.
  assert.ok(DEFAULT_TIMINGS.renewDeadlineMs < DEFAULT_TIMINGS.leaseDurationMs);
});
