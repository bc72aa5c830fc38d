// A root rotation seen from the sidecar: while the snapshot's trust anchors still hold the root its
// certificate chains to (old + new), nothing happens; once the old root is gone it renews at once rather
// than at its next scheduled renewal (an hour away here), and the new certificate chains to the new root.
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { pino } from 'pino';
import { parseRunConfig } from '../config/index.js';
import { Backoff } from '../identity/backoff.js';
import { chainsToAnchors } from '../identity/certify.js';
import { createMetrics } from '../metrics/index.js';
import type { MeshClient } from './index.js';
import { startMeshClientNow } from './mesh-client.js';
import { createCa, FakeControlPlane, servingIdentity, snapshotOf, type TestCa } from './testing/fake-cp.js';

async function waitFor(what: string, condition: () => boolean, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for: ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe('trust anchor rotation', () => {
  let dir: string;
  let cp: FakeControlPlane;
  let client: MeshClient | undefined;
  let oldRoot: TestCa;
  let newRoot: TestCa;
  const lines: string[] = [];
  const renewNowLogged = (): boolean => lines.some((l) => l.includes('renewing the workload certificate now'));

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'skein-rotation-test-'));
    const serving = await servingIdentity();
    oldRoot = await createCa('old root');
    newRoot = await createCa('new root');
    cp = new FakeControlPlane({ serving, meshCa: oldRoot, spiffeId: 'spiffe://cluster.local/ns/a/sa/b', token: () => 't', defaultTtlSeconds: 3600 });
    await cp.start();
    await writeFile(join(dir, 'token'), 't');
    await writeFile(join(dir, 'ca.pem'), serving.ca.certPem);
    const config = parseRunConfig([], {
      SKEIN_CP_ADDRESS: `127.0.0.1:${cp.port}`, SKEIN_TOKEN_PATH: join(dir, 'token'), SKEIN_CP_CA_PATH: join(dir, 'ca.pem'),
      POD_NAME: 'b-0', POD_NAMESPACE: 'a',
    });
    const log = pino({ level: 'info' }, new Writable({ write(chunk: Buffer, _e, cb) { lines.push(chunk.toString()); cb(); } }));
    client = await startMeshClientNow({ config, log, metrics: createMetrics(), backoff: () => new Backoff({ minMs: 50, maxMs: 200 }) });
    cp.publish(snapshotOf({ version: 'v1', trustAnchorsPem: [oldRoot.certPem] }));
    await client.whenReady();
  });
  after(async () => {
    client?.stop();
    cp?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('old + new roots: the certificate stays; new root only: renewed at once from the new root', async () => {
    const c = client as MeshClient;
    const first = c.identity.current();
    assert.ok(first && chainsToAnchors(first.certChainPem, [oldRoot.certPem]));
    cp.setMeshCa(newRoot);
    cp.publish(snapshotOf({ version: 'v2', trustAnchorsPem: [oldRoot.certPem, newRoot.certPem] }));
    await waitFor('v2', () => c.discovery.current()?.version === 'v2');
    assert.equal(renewNowLogged(), false, 'still chains to an anchor: no renewal');
    assert.equal(c.identity.current(), first);

    cp.publish(snapshotOf({ version: 'v3', trustAnchorsPem: [newRoot.certPem] }));
    await waitFor('v3', () => c.discovery.current()?.version === 'v3');
    assert.equal(renewNowLogged(), true);
    await waitFor('a certificate from the new root', () => c.identity.current() !== first);
    const renewed = c.identity.current();
    assert.ok(renewed && chainsToAnchors(renewed.certChainPem, [newRoot.certPem]));
    assert.equal(chainsToAnchors(renewed.certChainPem, [oldRoot.certPem]), false);
  });
});
