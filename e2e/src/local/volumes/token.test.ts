import assert from 'node:assert/strict';
import { createPublicKey, verify } from 'node:crypto';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { ensureSigningKey, mintToken } from './token.js';

describe('service account tokens', () => {
  let dir = '';
  after(async () => { if (dir) await rm(dir, { recursive: true, force: true }); });

  it('mints an RS256 JWT that verifies with sa-pub.pem and carries the pod identity', async () => {
    dir = await mkdtemp(join(tmpdir(), 'skl-token-'));
    const key = await ensureSigningKey(join(dir, 'sa-key.pem'), join(dir, 'sa-pub.pem'));
    assert.equal((await stat(join(dir, 'sa-key.pem'))).mode & 0o777, 0o600);
    const now = Date.UTC(2026, 0, 1);
    const jwt = mintToken(key, { namespace: 'shop', serviceAccount: 'frontend', audiences: ['skein-cp'], expirationSeconds: 3600, pod: { name: 'web-1', uid: 'u-1' }, now });
    const [h, p, s] = jwt.split('.');
    const header = JSON.parse(Buffer.from(h!, 'base64url').toString()) as Record<string, unknown>;
    const claims = JSON.parse(Buffer.from(p!, 'base64url').toString()) as Record<string, unknown>;
    assert.equal(header.alg, 'RS256');
    const pub = createPublicKey(await readFile(join(dir, 'sa-pub.pem'), 'utf8'));
    assert.equal(verify('sha256', Buffer.from(`${h}.${p}`), pub, Buffer.from(s!, 'base64url')), true);
    assert.equal(verify('sha256', Buffer.from(`${h}.${p}x`), pub, Buffer.from(s!, 'base64url')), false);
    assert.equal(claims.iss, 'skein-local');
    assert.equal(claims.sub, 'system:serviceaccount:shop:frontend');
    assert.deepEqual(claims.aud, ['skein-cp']);
    assert.equal(claims.exp, now / 1000 + 3600);
    assert.deepEqual(claims['kubernetes.io'], { namespace: 'shop', pod: { name: 'web-1', uid: 'u-1' }, serviceaccount: { name: 'frontend' } });
  });
  it('reuses the key already in the state dir', async () => {
    const a = await ensureSigningKey(join(dir, 'sa-key.pem'), join(dir, 'sa-pub.pem'));
    const b = await ensureSigningKey(join(dir, 'sa-key.pem'), join(dir, 'sa-pub.pem'));
    assert.equal(a.export({ type: 'pkcs8', format: 'pem' }), b.export({ type: 'pkcs8', format: 'pem' }));
  });
});
