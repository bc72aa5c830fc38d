// Microbench of the authorization decision (not product code, not in the image):
//   node dataplane/dist/policy/testing/bench.js [--policies 1000] [--iterations 200000]
// Measures, with N TrafficPermissions selecting the workload: building the index (once per snapshot),
// the rules of a new connection (once per connection and snapshot), and one HTTP request's decision
// as the inbound path pays it (ConnectionAuthz.request: normalise the target, decide, count), for a
// typical set (one Allow per caller service account) and a worst case (every policy applies to every
// caller and none matches, so a request walks all of them). Figures: docs/benchmarks.md.
import { performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';
import { Action, type discovery as api } from '@skein/api';
import { createLogControl } from '../../log/index.js';
import { createMetrics } from '../../metrics/index.js';
import { InboundAuthz } from '../enforce.js';
import { PolicyIndex } from '../rules.js';
import { permission, PolicyDiscovery } from './discovery.js';

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : fallback;
}

const N = arg('policies', 1000);
const ITERATIONS = arg('iterations', 200_000);

/** One Allow per caller (`ns-<i%50>/sa-<i>`), GET/POST on two paths of port 8080; every 10th a Deny of a path for all callers (100). */
export function typicalPolicies(n: number): api.TrafficPermission[] {
  const out: api.TrafficPermission[] = [];
  for (let i = 0; i < n; i++) {
    if (i % 10 === 9) {
      out.push(permission('shop', `deny-${i}`, 'Deny', [{ namespaces: ['*'] }], [{ paths: [`/internal/${i}/*`] }]));
      continue;
    }
    // Every 5th also has a glob: it must be checked for every caller.
    out.push(permission('shop', `allow-${i}`, 'Allow', [{ serviceAccounts: [`ns-${i % 50}/sa-${i}`, ...(i % 5 === 0 ? [`ns-${i % 50}/x*`] : [])] }],
      [{ ports: [8080], methods: ['GET', 'POST'], paths: [`/api/${i}`, `/api/${i}/*`] }]));
  }
  return out;
}

/** Every policy applies to every caller on every port and none matches the request's path. */
function worst(n: number): api.TrafficPermission[] {
  const out: api.TrafficPermission[] = [];
  for (let i = 0; i < n; i++) {
    out.push(permission('shop', `p-${i}`, i % 2 === 0 ? 'Deny' : 'Allow', [], [{ methods: ['PUT'], paths: [`/p/${i}`, `/p/${i}/*`] }]));
  }
  return out;
}

function time(label: string, iterations: number, fn: (i: number) => void): void {
  for (let i = 0; i < Math.min(iterations, 10_000); i++) fn(i); // warm-up
  const started = performance.now();
  for (let i = 0; i < iterations; i++) fn(i);
  const us = ((performance.now() - started) * 1000) / iterations;
  process.stdout.write(`${label.padEnd(64)} ${us.toFixed(3).padStart(9)} µs\n`);
}

function scenario(name: string, policies: api.TrafficPermission[], caller: string, paths: string[]): void {
  process.stdout.write(`\n${name}: ${policies.length} policies\n`);
  time('index build (once per snapshot)', 200, () => { new PolicyIndex(policies, Action.ACTION_ALLOW); });
  const index = new PolicyIndex(policies, Action.ACTION_ALLOW);
  // A new caller each time defeats the per-snapshot cache: the full per-connection filtering.
  let unique = 0;
  time('rules of a new connection (once per connection and snapshot)', 2_000, () => {
    unique++;
    index.forConnection(`spiffe://cluster.local/ns/ns-${unique % 50}/sa/sa-${unique}`, 8080);
  });
  const discovery = new PolicyDiscovery({ trustAnchorsPem: [], policies });
  const log = createLogControl('silent').root;
  const authz = new InboundAuthz(discovery, createMetrics(), log);
  const conn = authz.connection(caller, 8080, log);
  for (const path of paths) {
    const r = conn.request('GET', path);
    time(`request ${path} → ${r.kind === 'bad' ? 'bad' : `${r.decision.allowed ? 'allow' : 'deny'} ${r.decision.policy}`}`, ITERATIONS, () => { conn.request('GET', path); });
  }
  authz.stop();
}

if (isMain()) {
  scenario('no policies', [], 'spiffe://cluster.local/ns/ns-1/sa/sa-1', ['/api/1/orders']);
  scenario('typical', typicalPolicies(N), 'spiffe://cluster.local/ns/ns-1/sa/sa-1', ['/api/1/orders', '/api/2', '/internal/9/x', '/api/./1//orders/%6F', '/api/1%2F..']);
  scenario('worst case', worst(N), 'spiffe://cluster.local/ns/ns-1/sa/sa-1', ['/q/1']);
}

/** Run as a script (not imported by bench-hops for its policies). */
function isMain(): boolean {
  return process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href;
}
