// Local mode's status report: <statusDir>/TrafficPermission/<ns>/<name>.json follows each object's
// verdict (Valid, Accepted), is rewritten only when the verdict changes, keeps lastTransitionTime for a
// condition whose status did not change (also across a restart), and goes when its object goes; each
// verdict change is logged once.
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { localStoreSource } from '../discovery/local-store.js';
import { memoryLogger, waitForState } from '../discovery/testing.js';
import type { ClusterSource } from '../discovery/types.js';
import { startPolicyReporter, type PolicyReporter } from './reporter.js';
import type { PolicyStatus } from './status-store.js';
import { localStatusFile, localStatusStore } from './status-local.js';

let rv = 0;
function put(store: string, name: string, spec: unknown, ns = 'shop'): string {
  const folder = join(store, 'TrafficPermission', ns);
  mkdirSync(folder, { recursive: true });
  const f = join(folder, `${name}.json`);
  rv += 1;
  writeFileSync(`${f}.tmp`, JSON.stringify({ apiVersion: 'skein.io/v1alpha1', kind: 'TrafficPermission', metadata: { name, namespace: ns, resourceVersion: String(rv) }, spec }));
  renameSync(`${f}.tmp`, f);
  return String(rv);
}

describe('TrafficPermission status in local mode', () => {
  let dir: string;
  let store: string;
  let statusDir: string;
  let source: ClusterSource;
  let reporter: PolicyReporter;
  let clock = Date.parse('2026-12-04T10:00:00Z');
  const logs = memoryLogger();
  const read = (name: string): PolicyStatus => JSON.parse(readFileSync(localStatusFile(statusDir, 'shop', name), 'utf8')) as PolicyStatus;
  const cond = (s: PolicyStatus, type: string): string => { const c = s.conditions.find((x) => x.type === type); return `${c?.status}/${c?.reason}`; };
  const settled = async (pred: () => boolean): Promise<void> => { for (let i = 0; i < 500 && !pred(); i++) { reporter.kick(); await reporter.idle(); await new Promise((r) => setTimeout(r, 20)); } };
  const start = (): PolicyReporter => startPolicyReporter({ source, store: localStatusStore({ statusDir, log: logs.log }), log: logs.log, now: () => new Date(clock) });

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'skein-policy-status-'));
    store = join(dir, 'store');
    statusDir = join(dir, 'cp', 'status');
    put(store, 'good', { action: 'Allow', from: [{ serviceAccounts: ['shop/frontend'] }] });
    put(store, 'bad-deny', { action: 'Deny', to: [{ paths: ['/orders/../admin'] }] });
    source = localStoreSource({ dir: store, log: logs.log, scanIntervalMs: 20 });
    await source.start();
    reporter = start();
    await reporter.idle();
  });

  after(async () => {
    await reporter.stop();
    await source.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  test('each object gets a status file with Valid and Accepted', () => {
    const good = read('good');
    assert.deepEqual(good.conditions.map((c) => c.type), ['Valid', 'Accepted']);
    assert.equal(cond(good, 'Valid'), 'True/Valid');
    assert.equal(cond(good, 'Accepted'), 'True/Enforced');
    assert.equal(good.conditions[0]?.lastTransitionTime, '2026-12-04T10:00:00Z');
    assert.equal(good.observedGeneration, undefined, 'skein-local objects have no generation');
    const bad = read('bad-deny');
    assert.equal(cond(bad, 'Valid'), 'False/Invalid');
    assert.match(bad.conditions[0]?.message ?? '', /spec\.to\[0\]\.paths\[0\].*"\.\." segment/);
    assert.equal(cond(bad, 'Accepted'), 'False/FailClosed');
    assert.match(bad.conditions[1]?.message ?? '', /Deny of every source, port, method and path on every pod of namespace shop/);
  });

  test('the invalid object is logged once with its problems and effect, not on every pass', async () => {
    for (let i = 0; i < 3; i++) { reporter.kick(); await reporter.idle(); }
    const lines = logs.lines().filter((l) => l.policy === 'shop/bad-deny' && l.level === 40);
    assert.equal(lines.length, 1, JSON.stringify(lines));
    assert.equal(lines[0]?.effect, 'deny-all');
    assert.match(String(lines[0]?.msg), /is invalid .*fails closed/);
  });

  test('an unchanged verdict is not rewritten; a fix rewrites it, keeping lastTransitionTime only where the status stayed', async () => {
    const file = localStatusFile(statusDir, 'shop', 'bad-deny');
    const before = statSync(file);
    put(store, 'good', { action: 'Allow', from: [{ serviceAccounts: ['shop/frontend'] }] }); // same verdict, new resourceVersion
    await waitForState(source, (s) => s.trafficPermissions.get('shop/good')?.metadata?.resourceVersion === String(rv), 'good rewritten');
    reporter.kick();
    await reporter.idle();
    assert.equal(statSync(file).ino, before.ino, 'bad-deny not rewritten');
    assert.equal(read('good').conditions[0]?.lastTransitionTime, '2026-12-04T10:00:00Z');

    clock += 60_000;
    put(store, 'bad-deny', { action: 'Deny', to: [{ paths: ['/admin'] }] });
    await settled(() => cond(read('bad-deny'), 'Valid') === 'True/Valid');
    const fixed = read('bad-deny');
    assert.equal(cond(fixed, 'Accepted'), 'True/Enforced');
    assert.equal(fixed.conditions[0]?.lastTransitionTime, '2026-12-04T10:01:00Z');
    assert.ok(logs.lines().some((l) => l.policy === 'shop/bad-deny' && l.level === 30 && String(l.msg).includes('valid again')));

    // A warning (literal ".*") changes the reason, not the status: its lastTransitionTime stays.
    clock += 60_000;
    put(store, 'good', { action: 'Allow', from: [{ serviceAccounts: ['shop/front.*'] }] });
    await settled(() => cond(read('good'), 'Accepted') === 'True/EnforcedWithWarnings');
    assert.equal(read('good').conditions[1]?.lastTransitionTime, '2026-12-04T10:00:00Z');
    assert.match(read('good').conditions[1]?.message ?? '', /literal globs/);
  });

  test('a deleted object loses its status file; a restarted reporter keeps the transition times it finds', async () => {
    put(store, 'temp', { action: 'Sometimes' });
    await settled(() => existsSync(localStatusFile(statusDir, 'shop', 'temp')));
    assert.equal(cond(read('temp'), 'Accepted'), 'False/FailClosed');
    rmSync(join(store, 'TrafficPermission', 'shop', 'temp.json'));
    await settled(() => !existsSync(localStatusFile(statusDir, 'shop', 'temp')));

    await reporter.stop();
    // A status file left by an object deleted while skein-cp was down goes too.
    mkdirSync(join(statusDir, 'TrafficPermission', 'gone'), { recursive: true });
    writeFileSync(localStatusFile(statusDir, 'gone', 'old'), '{}');
    clock += 3_600_000;
    reporter = start();
    await reporter.idle();
    assert.equal(read('bad-deny').conditions[0]?.lastTransitionTime, '2026-12-04T10:01:00Z');
    assert.equal(existsSync(localStatusFile(statusDir, 'gone', 'old')), false);
  });
});
