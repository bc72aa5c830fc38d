// Local mode: the CA directory and its modes, reuse across restarts, the trust bundle written atomically
// on every anchor change, and a rotation done by replacing the files while skein-cp runs.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { chmod, mkdtemp, readFile, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import type { MeshCa } from './mesh-ca.js';
import { startLocalMeshCa, MESH_CA_DIR, TRUST_BUNDLE_FILE } from './local.js';
import { generateRootCa } from './root.js';
import { makeCsr } from './testing/pki.js';

const quiet = pino({ level: 'silent' });
const dirs: string[] = [];
const cas: MeshCa[] = [];
after(async () => {
  for (const c of cas) await c.stop();
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

async function stateDir(): Promise<string> {
  const d = await mkdtemp(join(tmpdir(), 'sk-ut-meshca-'));
  dirs.push(d);
  return d;
}

async function start(dir: string): Promise<MeshCa> {
  const ca = await startLocalMeshCa({ stateDir: dir, trustDomain: 'cluster.local', log: quiet, reloadIntervalMs: 30 });
  cas.push(ca);
  return ca;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
async function until(what: string, cond: () => boolean | Promise<boolean>): Promise<void> {
  const deadline = Date.now() + 20_000; // failure guard only
  while (!(await cond())) {
    if (Date.now() > deadline) assert.fail(`timed out waiting for: ${what}`);
    await sleep(20);
  }
}

const identity = { namespace: 'shop', serviceAccount: 'web', spiffeId: 'spiffe://cluster.local/ns/shop/sa/web' };
async function issuer(ca: MeshCa): Promise<string> {
  const issued = await ca.sign({ csrPem: (await makeCsr()).csrPem, identity, ttlSeconds: 3600 });
  return new X509Certificate(issued.certChainPem[0] ?? '').issuer;
}
const fp = (pem: string): string => new X509Certificate(pem).fingerprint256;

test('first start creates the root with private modes and the trust bundle; a restart reuses both unchanged', async () => {
  const dir = await stateDir();
  const ca = await start(dir);
  const caDir = join(dir, MESH_CA_DIR);
  assert.equal((await stat(caDir)).mode & 0o777, 0o700);
  assert.equal((await stat(join(caDir, 'tls.key'))).mode & 0o777, 0o600);
  const bundlePath = join(caDir, TRUST_BUNDLE_FILE);
  const bundle = await stat(bundlePath);
  assert.equal(bundle.mode & 0o777, 0o644);
  assert.equal(await readFile(bundlePath, 'utf8'), ca.trustAnchorsPem().join(''));
  assert.equal(ca.trustAnchorsPem().length, 1);
  const rootFp = fp(ca.trustAnchorsPem()[0] ?? '');
  await ca.stop();

  const again = await start(dir);
  assert.equal(fp(again.trustAnchorsPem()[0] ?? ''), rootFp, 'the same root after a restart');
  assert.equal((await stat(bundlePath)).ino, bundle.ino, 'an unchanged bundle is not rewritten');
  assert.match(await issuer(again), /skein mesh CA/);
});

test('a key file made readable by others is set back to 0600; a lone tls.key is refused with what to do', async () => {
  const dir = await stateDir();
  await (await start(dir)).stop();
  await chmod(join(dir, MESH_CA_DIR, 'tls.key'), 0o644);
  await start(dir);
  assert.equal((await stat(join(dir, MESH_CA_DIR, 'tls.key'))).mode & 0o777, 0o600);

  const lone = await stateDir();
  await (await start(lone)).stop();
  await rm(join(lone, MESH_CA_DIR, 'tls.crt'));
  await assert.rejects(startLocalMeshCa({ stateDir: lone, trustDomain: 'cluster.local', log: quiet }), /has tls\.key but no tls\.crt; restore tls\.crt, or remove the directory/);
});

test('rotation by replacing the files: the bundle gains the new root, then the signer switches, then the old root goes; each bundle is renamed into place', async () => {
  const dir = await stateDir();
  const ca = await start(dir);
  const caDir = join(dir, MESH_CA_DIR);
  const bundlePath = join(caDir, TRUST_BUNDLE_FILE);
  const oldPem = ca.trustAnchorsPem()[0] ?? '';
  const oldIssuer = await issuer(ca);
  const oldCert = await readFile(join(caDir, 'tls.crt'), 'utf8');
  const fresh = await generateRootCa('cluster.local');
  const changes: string[][] = [];
  ca.onTrustAnchorsChange((pems) => changes.push(pems));

  // 1. Trust the new root first.
  const ino0 = (await stat(bundlePath)).ino;
  await writeFile(join(caDir, 'extra-roots.pem'), fresh.certPem);
  await until('the new root is trusted', () => ca.trustAnchorsPem().length === 2);
  await until('the bundle file has both roots', async () => (await readFile(bundlePath, 'utf8')) === ca.trustAnchorsPem().join(''));
  assert.notEqual((await stat(bundlePath)).ino, ino0, 'written to a temporary file and renamed');
  assert.equal(changes.length, 1);
  assert.deepEqual(changes[0]?.map(fp).sort(), [fp(oldPem), fp(fresh.certPem)].sort());
  assert.equal(await issuer(ca), oldIssuer, 'still signing with the old CA');

  // 2. Switch the signer, keeping the old root trusted. A half-done edit (new cert, old key) is not used.
  await writeFile(join(caDir, 'tls.crt'), fresh.certPem);
  await sleep(150);
  assert.equal(await issuer(ca), oldIssuer, 'a mismatched pair keeps the CA in use');
  await writeFile(join(caDir, 'tls.key'), fresh.keyPem, { mode: 0o600 });
  await writeFile(join(caDir, 'extra-roots.pem'), oldCert);
  await until('the new CA signs', async () => (await issuer(ca)) === new X509Certificate(fresh.certPem).subject);
  assert.equal(ca.trustAnchorsPem().length, 2, 'old and new roots during the rotation');

  // 3. Drop the old root.
  await rm(join(caDir, 'extra-roots.pem'));
  await until('only the new root is left', () => ca.trustAnchorsPem().length === 1);
  await until('the bundle follows', async () => (await readFile(bundlePath, 'utf8')) === ca.trustAnchorsPem().join(''));
  assert.equal(fp(ca.trustAnchorsPem()[0] ?? ''), fp(fresh.certPem));
  assert.equal((await readdir(caDir)).filter((f) => f.endsWith('.tmp')).length, 0, 'no temporary file left behind');
});

test('a deleted trust bundle is written again', async () => {
  const dir = await stateDir();
  const ca = await start(dir);
  const bundlePath = join(dir, MESH_CA_DIR, TRUST_BUNDLE_FILE);
  await rm(bundlePath);
  await until('the bundle is back', async () => {
    try { return (await readFile(bundlePath, 'utf8')) === ca.trustAnchorsPem().join(''); } catch { return false; }
  });
});
