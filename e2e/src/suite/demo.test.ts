// The demo's manifests and apps (e2e/demo/), as scripts/demo.sh deploys them, on a private skein-local:
// CI does not run the demo script, so this is what keeps `bash scripts/demo.sh` from rotting.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { observeHops } from './harness/hops.js';
import type { LocalMesh } from './harness/local-mesh.js';
import { REPO_ROOT } from './harness/paths.js';
import { meshSuite } from './harness/suite.js';

const NS = 'shop';
const APPS = ['redis', 'bills', 'orders', 'frontend'] as const;

interface Placed {
  app: string;
  placed: { app: string; order: number; bill: { app: string; order: number; amount: number; currency: string } };
}

async function setup(mesh: LocalMesh): Promise<void> {
  await mesh.cliOk(['apply', '-f', join(REPO_ROOT, 'e2e', 'demo', 'manifests')], { timeoutMs: 60_000 });
  for (const app of [...APPS, 'client']) {
    await mesh.cliOk(['wait', 'pod', '-l', `app=${app}`, '-n', NS, '--for', 'ready', '--timeout', '120s'], { timeoutMs: 130_000 });
  }
}

describe('the demo shop', () => {
  const { mesh, diagnosed } = meshSuite('demo', [NS], setup);
  const podOf = async (app: string): Promise<string> => {
    const p = (await mesh.pods(NS)).find((x) => x.metadata.labels?.app === app);
    assert.ok(p, `no pod with app=${app}`);
    return p.metadata.name;
  };

  it('every shop pod is injected and its readiness probe goes through the sidecar', diagnosed(async () => {
    for (const app of APPS.filter((a) => a !== 'redis')) {
      const p = await mesh.pod(NS, await podOf(app));
      const original = JSON.parse(p.metadata.annotations?.['skein.io/original-probes'] ?? '{}') as Record<string, { readiness?: unknown }>;
      assert.ok(original[app]?.readiness, `${app}: original readiness probe not recorded: ${JSON.stringify(original)}`);
      const container = (p.spec.containers as { name: string; readinessProbe?: { httpGet?: { path?: string; port?: unknown } } }[])
        .find((c) => c.name === app);
      const get = container?.readinessProbe?.httpGet;
      assert.deepEqual({ path: get?.path, port: get?.port }, { path: `/app-health/${app}/readiness`, port: 15020 });
      assert.ok(p.status?.containerStatuses?.every((c) => c.ready), `${app}: not every container is ready`);
    }
  }));

  it('an order placed at the frontend runs frontend -> orders -> (redis, bills) through the sidecars', diagnosed(async () => {
    const frontend = await podOf('frontend');
    const place = async (): Promise<Placed> =>
      JSON.parse(await mesh.execOk(NS, 'client', ['curl', '-sS', '--fail', '--max-time', '20', `http://frontend.${NS}/`])) as Placed;
    let first: Placed | undefined;
    let second: Placed | undefined;
    const hops = await observeHops(mesh, NS, 'client', frontend, async () => {
      first = await place();
      second = await place();
    });
    assert.ok(first && second);
    assert.equal(first.placed.app, 'orders');
    assert.equal(first.placed.bill.app, 'bills');
    assert.equal(first.placed.bill.order, first.placed.order);
    // The order number is Redis's INCR: consecutive orders get consecutive numbers.
    assert.equal(second.placed.order, first.placed.order + 1);
    assert.equal(hops.clientOutboundRequests, 2, hops.why);
    // At least: the frontend's readiness probes also pass through its sidecar (via :15020).
    assert.ok(hops.serverInboundRequests >= 2, hops.why);
  }));

  it('redis-cli reads the order counter through the mesh', diagnosed(async () => {
    const count = Number((await mesh.execOk(NS, 'client', ['redis-cli', '-h', `redis.${NS}`, 'GET', 'shop:orders'])).trim());
    assert.ok(count >= 2, `shop:orders is ${count}`);
  }));
});
