// Kubernetes mode against the in-memory API server (kube/testing/apiserver, over HTTPS, through the real
// client): the leader creates Secret skein-ca once, a follower waits for it, a create that loses the race
// (409) uses the winner's CA, a user's CA (an intermediate) is used as given, a broken user Secret is
// reported and never overwritten, a rotation in the Secret is picked up, a deleted Secret is written back.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { StoppedDuringStartError } from '../../errors.js';
import { connect, type KubeIo } from '../../kube/client.js';
import { FakeApiServer } from '../../kube/testing/apiserver/server.js';
import { SECRETS } from '../../kube/testing/apiserver/kinds.js';
import { startKubeMeshCa, CA_SECRET_NAME, type KubeMeshCa } from './kube.js';
import { generateRootCa } from './root.js';
import { makeCsr, opensslIntermediate, opensslRoot } from './testing/pki.js';

const NS = 'skein-system';
const quiet = pino({ level: 'silent' });
const servers: FakeApiServer[] = [];
const dirs: string[] = [];
const cas: KubeMeshCa[] = [];
after(async () => {
  for (const c of cas) await c.stop();
  for (const s of servers) await s.close();
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
async function until(what: string, cond: () => boolean | Promise<boolean>): Promise<void> {
  const deadline = Date.now() + 20_000; // failure guard only
  while (!(await cond())) {
    if (Date.now() > deadline) assert.fail(`timed out waiting for: ${what}`);
    await sleep(20);
  }
}

async function cluster(): Promise<{ api: FakeApiServer; io: () => Promise<KubeIo> }> {
  const api = await FakeApiServer.start();
  servers.push(api);
  const dir = await mkdtemp(join(tmpdir(), 'sk-ut-meshca-kube-'));
  dirs.push(dir);
  const kubeconfig = await api.writeKubeconfig(dir);
  return { api, io: () => connect(kubeconfig) };
}

async function replica(io: KubeIo, leader: boolean | (() => boolean), log = quiet, signal?: AbortSignal): Promise<KubeMeshCa> {
  const ca = await startKubeMeshCa({
    io, namespace: NS, trustDomain: 'cluster.local', isLeader: typeof leader === 'function' ? leader : () => leader, log,
    pollReadyMs: 40, pollWaitingMs: 20, ...(signal ? { signal } : {}),
  });
  cas.push(ca);
  return ca;
}

const b64 = (s: string): string => Buffer.from(s).toString('base64');
const unb64 = (s: unknown): string => Buffer.from(String(s), 'base64').toString('utf8');
function seedCa(api: FakeApiServer, data: Record<string, string>): void {
  api.seed(SECRETS, {
    apiVersion: 'v1', kind: 'Secret', type: 'kubernetes.io/tls', metadata: { name: CA_SECRET_NAME, namespace: NS },
    data: Object.fromEntries(Object.entries(data).map(([k, v]) => [k, b64(v)])),
  });
}
const secretData = (api: FakeApiServer): Record<string, string> | undefined => api.get(SECRETS, NS, CA_SECRET_NAME)?.data as Record<string, string> | undefined;
const fp = (pem: string): string => new X509Certificate(pem).fingerprint256;
const identity = { namespace: 'shop', serviceAccount: 'web', spiffeId: 'spiffe://cluster.local/ns/shop/sa/web' };

test('the leader creates Secret skein-ca once; a follower waits for it and then uses the same root', async () => {
  const { api, io } = await cluster();
  let followerReady = false;
  const follower = replica(await io(), false).then((ca) => { followerReady = true; return ca; });
  await sleep(200);
  assert.equal(followerReady, false, 'a follower does not create the Secret and waits');
  assert.equal(secretData(api), undefined);
  const leader = await replica(await io(), true);
  const data = secretData(api);
  assert.ok(data);
  assert.equal(api.get(SECRETS, NS, CA_SECRET_NAME)?.type, 'kubernetes.io/tls');
  assert.deepEqual(Object.keys(data).sort(), ['ca.crt', 'tls.crt', 'tls.key']);
  assert.equal(fp(unb64(data['tls.crt'])), fp(leader.trustAnchorsPem()[0] ?? ''));
  const f = await follower;
  assert.deepEqual(f.trustAnchorsPem(), leader.trustAnchorsPem());
  assert.equal(api.writes.filter((w) => w.resource === 'secrets').length, 1, 'created once, never rewritten');
  const issued = await f.sign({ csrPem: (await makeCsr()).csrPem, identity, ttlSeconds: 3600 });
  assert.ok(new X509Certificate(issued.certChainPem[0] ?? '').verify(new X509Certificate(leader.trustAnchorsPem()[0] ?? '').publicKey));
});

test('a create that loses the race gets 409 Conflict from the API server and uses the CA the other replica wrote', async () => {
  const { api, io } = await cluster();
  const real = await io();
  const theirs = await generateRootCa('cluster.local');
  let first = true;
  // Another replica creates the Secret between this replica's read (absent) and its create.
  const racing: KubeIo = {
    ...real,
    readSecret: async (ns, name) => {
      const r = await real.readSecret(ns, name);
      if (first && r === undefined) {
        first = false;
        seedCa(api, { 'tls.crt': theirs.certPem, 'tls.key': theirs.keyPem });
      }
      return r;
    },
  };
  const lines: string[] = [];
  const ca = await replica(racing, true, pino({ level: 'info' }, { write: (l: string) => { lines.push(l); } }));
  assert.equal(first, false);
  assert.ok(lines.some((l) => l.includes('another replica created the mesh CA Secret first')), 'the create was answered 409');
  assert.deepEqual(ca.trustAnchorsPem().map(fp), [fp(theirs.certPem)]);
  assert.equal(unb64(secretData(api)?.['tls.crt']), theirs.certPem, 'the winner\'s Secret is left as it was');
});

test('a user\'s intermediate with its root in ca.crt (cert-manager\'s layout) signs, and the root is the anchor', async () => {
  const { api, io } = await cluster();
  const root = opensslRoot({ cn: 'acme root', days: 3650 });
  const int = opensslIntermediate(root, 'acme mesh');
  seedCa(api, { 'tls.crt': int.certPem, 'tls.key': int.keyPem, 'ca.crt': root.certPem });
  const ca = await replica(await io(), true);
  assert.deepEqual(ca.trustAnchorsPem().map(fp), [fp(root.certPem)]);
  const issued = await ca.sign({ csrPem: (await makeCsr()).csrPem, identity, ttlSeconds: 3600 });
  assert.equal(issued.certChainPem.length, 2);
  assert.equal(fp(issued.certChainPem[1] ?? ''), fp(int.certPem));
  assert.equal(api.writes.filter((w) => w.resource === 'secrets').length, 1, 'only the seed: the user\'s Secret is never written');
});

test('a broken user Secret is reported with the Secret\'s name and the fix, and never overwritten, not even by the leader', async () => {
  const { api, io } = await cluster();
  const a = opensslRoot({ cn: 'a' });
  const b = opensslRoot({ cn: 'b' });
  seedCa(api, { 'tls.crt': a.certPem, 'tls.key': b.keyPem });
  const lines: string[] = [];
  const log = pino({ level: 'info' }, { write: (s: string) => { lines.push(s); } });
  const abort = new AbortController();
  const starting = replica(await io(), true, log, abort.signal);
  await until('the error is logged', () => lines.some((l) => l.includes('Secret skein-system/skein-ca: tls.key is not the private key')));
  abort.abort();
  await assert.rejects(starting, StoppedDuringStartError);
  assert.equal(unb64(secretData(api)?.['tls.key']), b.keyPem);
  assert.equal(api.writes.filter((w) => w.resource === 'secrets').length, 1);
});

test('a rotation written into the Secret is picked up (anchors change, listeners called); a deleted Secret is written back by the leader', async () => {
  const { api, io } = await cluster();
  const ca = await replica(await io(), true);
  const oldRoot = unb64(secretData(api)?.['tls.crt']);
  const oldKey = unb64(secretData(api)?.['tls.key']);
  const fresh = await generateRootCa('cluster.local');
  const seen: string[][] = [];
  ca.onTrustAnchorsChange((p) => seen.push(p));
  // Step 1 of docs/identity.md: add the new root as an extra root.
  const client = await io();
  const rv = (api.get(SECRETS, NS, CA_SECRET_NAME)?.metadata as { resourceVersion: string }).resourceVersion;
  await client.replaceSecret(NS, CA_SECRET_NAME, 'kubernetes.io/tls', {
    'tls.crt': b64(oldRoot), 'tls.key': b64(oldKey), 'ca.crt': b64(oldRoot), 'extra-roots.pem': b64(fresh.certPem),
  }, rv);
  await until('the new root is trusted', () => ca.trustAnchorsPem().length === 2);
  assert.equal(seen.length, 1);
  assert.deepEqual(seen[0]?.map(fp).sort(), [fp(oldRoot), fp(fresh.certPem)].sort());

  await client.replaceSecret(NS, CA_SECRET_NAME, 'kubernetes.io/tls', {
    'tls.crt': b64(fresh.certPem), 'tls.key': b64(fresh.keyPem), 'ca.crt': b64(fresh.certPem), 'extra-roots.pem': b64(oldRoot),
  }, undefined);
  await until('the new CA signs', async () => {
    const issued = await ca.sign({ csrPem: (await makeCsr()).csrPem, identity, ttlSeconds: 3600 });
    return new X509Certificate(issued.certChainPem[0] ?? '').issuer === new X509Certificate(fresh.certPem).subject;
  });

  api.store.delete(SECRETS, NS, CA_SECRET_NAME);
  await until('the Secret is back', () => secretData(api) !== undefined);
  assert.equal(unb64(secretData(api)?.['tls.crt']), fresh.certPem, 'written back from the CA in use, not a new root');
  assert.equal(unb64(secretData(api)?.['extra-roots.pem']), oldRoot);
});
