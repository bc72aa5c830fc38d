// Admission against a real HTTPS webhook on a loopback port (certificate made with openssl), with the
// selectors of the real manifests/webhook-configuration.yaml.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, beforeEach, describe, it } from 'node:test';
import { repoRootFromHere } from '../config.js';
import { AdmissionError } from '../errors.js';
import { silentLogger } from '../log.js';
import type { Pod } from '../model/types.js';
import { admitPod, type AdmitContext } from './admit.js';

interface Review { request: { uid: string; operation: string; dryRun: boolean; namespace: string; name: string; object: Pod; userInfo: { username: string } } }

describe('pod admission through a real HTTPS webhook', () => {
  let dir = '';
  let server: Server;
  let ctx: AdmitContext;
  const seen: Review[] = [];
  let answer: (r: Review) => object = () => ({});

  const pod = (labels: Record<string, string> = {}): Pod => ({
    apiVersion: 'v1', kind: 'Pod', metadata: { generateName: 'web-abc-', namespace: 'shop', labels },
    spec: { containers: [{ name: 'web', image: 'busybox', command: ['sleep', '1'] }] },
  });
  const enabled = { 'kubernetes.io/metadata.name': 'shop', 'skein.io/inject': 'enabled' };

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'skl-admit-'));
    execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', '/CN=localhost',
      '-addext', 'subjectAltName=DNS:localhost,IP:127.0.0.1', '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'webhook-ca.pem')], { stdio: 'ignore' });
    server = createServer({ key: await readFile(join(dir, 'key.pem')), cert: await readFile(join(dir, 'webhook-ca.pem')) }, (req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => { body += c.toString(); });
      req.on('end', () => {
        const review = JSON.parse(body) as Review;
        seen.push(review);
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview', response: { uid: review.request.uid, allowed: true, ...answer(review) } }));
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as AddressInfo).port;
    await writeFile(join(dir, 'cp.json'), JSON.stringify({ pid: process.pid, webhookPort: port, grpcPort: 1, healthPort: 1, bindAddress: '127.0.0.1' }));
    ctx = { repoRoot: repoRootFromHere(), cpJsonPath: join(dir, 'cp.json'), webhookCaPath: join(dir, 'webhook-ca.pem'), cpLogPath: join(dir, 'cp.log'), log: silentLogger() };
  });
  after(async () => {
    server?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });
  beforeEach(() => { seen.length = 0; answer = () => ({}); });

  it('sends a CREATE review (no name, dryRun false, a uid) and applies the returned JSONPatch', async () => {
    const patch = [{ op: 'add', path: '/metadata/annotations', value: { 'skein.io/injected': 'test' } },
      { op: 'add', path: '/spec/containers/-', value: { name: 'skein-proxy', image: 'skein/dataplane:0', args: ['run'] } }];
    answer = () => ({ patchType: 'JSONPatch', patch: Buffer.from(JSON.stringify(patch)).toString('base64') });
    const input = pod();
    const r = await admitPod(ctx, input, enabled);
    assert.equal(seen.length, 1);
    const req = seen[0]!.request;
    assert.equal(req.operation, 'CREATE');
    assert.equal(req.dryRun, false);
    assert.equal(req.namespace, 'shop');
    assert.equal(req.name, '');
    assert.match(req.uid, /^[0-9a-f-]{36}$/);
    assert.equal(req.object.metadata.generateName, 'web-abc-');
    assert.ok(req.userInfo.username);
    assert.equal(r.patched, true);
    assert.equal(r.webhook, 'namespace.inject.skein.io');
    assert.deepEqual(r.pod.spec.containers.map((c) => c.name), ['web', 'skein-proxy']);
    assert.equal(r.pod.metadata.annotations?.['skein.io/injected'], 'test');
    assert.equal(input.spec.containers.length, 1, 'the input object is not mutated');
  });

  it('does not call the webhook when no entry selects the pod', async () => {
    const r = await admitPod(ctx, pod(), { 'kubernetes.io/metadata.name': 'plain' });
    assert.equal(seen.length, 0);
    assert.equal(r.patched, false);
    await admitPod(ctx, pod({ 'skein.io/inject': 'disabled' }), enabled);
    assert.equal(seen.length, 0, 'the pod label opts out');
  });

  it('allowed: false fails with the webhook message', async () => {
    answer = () => ({ allowed: false, status: { code: 403, message: 'runs as the proxy UID' } });
    await assert.rejects(admitPod(ctx, pod(), enabled),
      (e: Error) => e instanceof AdmissionError && /webhook "namespace\.inject\.skein\.io" denied the request: runs as the proxy UID/.test(e.message));
  });

  it('a patch touching __proto__ is refused and pollutes nothing', async () => {
    const patch = [{ op: 'add', path: '/__proto__/polluted', value: 'yes' }];
    answer = () => ({ patchType: 'JSONPatch', patch: Buffer.from(JSON.stringify(patch)).toString('base64') });
    await assert.rejects(admitPod(ctx, pod(), enabled), AdmissionError);
    assert.equal(({} as Record<string, unknown>).polluted, undefined);
  });

  it('an unreachable webhook fails the pod (failurePolicy Fail) with a clear error', async () => {
    const closed = createServer();
    await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((r) => closed.close(() => r()));
    const cpJson = join(dir, 'cp-dead.json');
    await writeFile(cpJson, JSON.stringify({ pid: 1, webhookPort: port, grpcPort: 1, healthPort: 1, bindAddress: '127.0.0.1' }));
    await assert.rejects(admitPod({ ...ctx, cpJsonPath: cpJson }, pod(), enabled),
      (e: Error) => e instanceof AdmissionError && /failurePolicy is Fail, so the pod is refused/.test(e.message) && /ECONNREFUSED/.test(e.message));
  });
});
