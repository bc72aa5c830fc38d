import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, readdir, rm, stat, writeFile, chmod } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { writeFileAtomic, writeCpState, removeCpState, ensureDir } from './state-dir.js';
import { loadOrCreateCa } from '../tls/local-store.js';
import { craftedPems } from '../tls/testing/crafted-der.js';
import { StateDirError } from '../errors.js';

const dirs: string[] = [];
after(async () => { for (const d of dirs) await rm(d, { recursive: true, force: true }); });
async function tmp(): Promise<string> {
  const d = await mkdtemp(join(tmpdir(), 'sk-ut-cp-'));
  dirs.push(d);
  return d;
}
const quiet = pino({ level: 'silent' });

test('atomic write replaces content, applies the mode despite the umask, leaves no temp files', async () => {
  const d = await tmp();
  const p = join(d, 'secret.pem');
  await writeFileAtomic(p, 'one', 0o644);
  const old = process.umask(0o000);
  try {
    await writeFileAtomic(p, 'two', 0o600);
  } finally {
    process.umask(old);
  }
  assert.equal(await readFile(p, 'utf8'), 'two');
  assert.equal((await stat(p)).mode & 0o777, 0o600);
  assert.deepEqual(await readdir(d), ['secret.pem']);
});

test('cp.json carries exactly the contract fields; removeCpState deletes it', async () => {
  const d = await tmp();
  await writeCpState(d, { pid: 42, webhookPort: 1, grpcPort: 2, healthPort: 3, bindAddress: '127.0.0.1' });
  assert.deepEqual(JSON.parse(await readFile(join(d, 'cp.json'), 'utf8')), { pid: 42, webhookPort: 1, grpcPort: 2, healthPort: 3, bindAddress: '127.0.0.1' });
  await removeCpState(d);
  assert.deepEqual(await readdir(d), []);
});

test('a state dir that is a file is refused with a StateDirError', async () => {
  const d = await tmp();
  await writeFile(join(d, 'f'), 'x');
  await assert.rejects(ensureDir(join(d, 'f')), (e: unknown) => e instanceof StateDirError && /--state-dir/.test(e.message));
});

test('the CA is created once with a 0600 key in a 0700 dir and reused across restarts', async () => {
  const d = await tmp();
  const first = await loadOrCreateCa(d, quiet);
  assert.equal((await stat(join(d, 'ca'))).mode & 0o777, 0o700);
  assert.equal((await stat(join(d, 'ca', 'ca-key.pem'))).mode & 0o777, 0o600);
  const again = await loadOrCreateCa(d, quiet);
  assert.deepEqual(again, first);
  // A key someone made world-readable is tightened back.
  await chmod(join(d, 'ca', 'ca-key.pem'), 0o644);
  await loadOrCreateCa(d, quiet);
  assert.equal((await stat(join(d, 'ca', 'ca-key.pem'))).mode & 0o777, 0o600);
});

test('a CA whose key does not match is refused, not silently replaced', async () => {
  const d = await tmp();
  await loadOrCreateCa(d, quiet);
  const other = await tmp();
  await loadOrCreateCa(other, quiet);
  await writeFile(join(d, 'ca', 'ca-key.pem'), await readFile(join(other, 'ca', 'ca-key.pem')));
  await assert.rejects(loadOrCreateCa(d, quiet), (e: unknown) => e instanceof StateDirError && /unusable/.test(e.message));
});

test('crafted DER in the state directory\'s CA files is refused with a StateDirError, not a crash (C2)', async () => {
  for (const [name, pem] of Object.entries(craftedPems())) {
    for (const file of ['ca.pem', 'ca-key.pem']) {
      const d = await tmp();
      await loadOrCreateCa(d, quiet);
      await writeFile(join(d, 'ca', file), pem);
      await assert.rejects(loadOrCreateCa(d, quiet), (e: unknown) => e instanceof StateDirError && /unusable/.test(e.message), `${name} in ${file}`);
    }
  }
});
