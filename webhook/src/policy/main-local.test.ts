// skein-cp as a real process in local mode (skein-local's flags): a TrafficPermission in the store gets
// its status file under <state-dir>/status and a log line naming it; a fix rewrites the file; the process
// stops cleanly on SIGTERM. Needs the build (dist/main.js).
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { test } from 'node:test';
import { localStatusFile } from './status-local.js';
import type { Condition } from './types.js';

const MAIN = fileURLToPath(new URL('../main.js', import.meta.url));

function put(store: string, name: string, spec: unknown, rv: number): void {
  const folder = join(store, 'TrafficPermission', 'shop');
  mkdirSync(folder, { recursive: true });
  const f = join(folder, `${name}.json`);
  writeFileSync(`${f}.tmp`, JSON.stringify({ apiVersion: 'skein.io/v1alpha1', kind: 'TrafficPermission', metadata: { name, namespace: 'shop', resourceVersion: String(rv) }, spec }));
  renameSync(`${f}.tmp`, f);
}

async function until<T>(what: string, f: () => T | undefined, out: () => string): Promise<T> {
  const deadline = Date.now() + 20_000; // failure guard only
  for (;;) {
    const v = f();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; skein-cp said:\n${out()}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

test('skein-cp --mode local --local-store: status files and log lines for TrafficPermissions', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'skein-cp-policy-'));
  const state = join(dir, 'cp');
  const store = join(dir, 'store');
  const pub = join(dir, 'sa-pub.pem');
  writeFileSync(pub, generateKeyPairSync('rsa', { modulusLength: 2048 }).publicKey.export({ type: 'spki', format: 'pem' }));
  put(store, 'orders-get', { action: 'Allow', from: [{ serviceAccounts: ['frontend'] }] }, 1);
  const child = spawn(process.execPath, [MAIN, '--mode', 'local', '--state-dir', state, '--webhook-port', '0', '--health-port', '0', '--grpc-port', '0',
    '--local-store', store, '--token-public-key', pub], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (b: Buffer) => (out += b.toString()));
  child.stderr.on('data', (b: Buffer) => (out += b.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  try {
    const file = localStatusFile(join(state, 'status'), 'shop', 'orders-get');
    const read = (): Condition[] | undefined => { try { return (JSON.parse(readFileSync(file, 'utf8')) as { conditions: Condition[] }).conditions; } catch { return undefined; } };
    const bad = await until('the status file', read, () => out);
    assert.deepEqual(bad.map((c) => [c.type, c.status, c.reason]), [['Valid', 'False', 'Invalid'], ['Accepted', 'False', 'AllowsNothing']]);
    assert.match(bad[0]?.message ?? '', /spec\.from\[0\]\.serviceAccounts\[0\]: "frontend" is not "<namespace>\/<serviceaccount>"/);
    const line = out.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as Record<string, unknown>).find((l) => l.policy === 'shop/orders-get');
    assert.equal(line?.effect, 'allow-nothing', out);
    assert.equal(line?.component, 'policy');

    put(store, 'orders-get', { action: 'Allow', from: [{ serviceAccounts: ['shop/frontend'] }] }, 2);
    const fixed = await until('the fixed status', () => { const c = read(); return c?.[0]?.status === 'True' ? c : undefined; }, () => out);
    assert.equal(fixed[1]?.reason, 'Enforced');
    child.kill('SIGTERM');
    assert.equal(await exited, 0, out);
  } finally {
    if (child.exitCode === null) child.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  }
});
