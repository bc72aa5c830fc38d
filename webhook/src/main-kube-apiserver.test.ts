// `skein-cp --mode kubernetes --kubeconfig K` as a real process against the validating in-memory API
// server (kube/testing/apiserver/; the stand-in for a cluster where `kubectl apply -k manifests/` was
// run): it must take the Lease, write the TLS Secret and the caBundle, serve the webhook with that
// certificate, and on SIGTERM hand the Lease back — every write accepted as a real kube-apiserver would
// accept it. Issue 6 was this process failing every Lease write on a real server.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { request as httpsRequest } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { httpGet } from './testing/http-get.js';
import { FakeApiServer } from './kube/testing/apiserver/server.js';
import { applyWebhookConfiguration } from './kube/testing/apiserver/manifests.js';
import { LEASES, MUTATING_WEBHOOK_CONFIGURATIONS, SECRETS } from './kube/testing/apiserver/kinds.js';
import { decodeSecretData } from './kube/tls-secret.js';

const MAIN = fileURLToPath(new URL('./main.js', import.meta.url));
const NS = 'skein-system';
const children = new Set<ChildProcess>();
const cleanup: Array<() => Promise<void>> = [];
after(async () => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  for (const f of cleanup) await f();
});

/** The webhook's certificate must chain to the CA the leader put into the caBundle. */
function webhookAnswers(port: number, caPem: string): Promise<number> {
  return new Promise((resolve, reject) => {
    httpsRequest({ host: '127.0.0.1', port, path: '/healthz', method: 'GET', ca: caPem, servername: 'skein-cp.skein-system.svc', agent: false }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    }).on('error', reject).end();
  });
}

test('skein-cp --mode kubernetes against the validating API server: leads, writes Secret and caBundle, serves; SIGTERM releases the Lease', async () => {
  const api = await FakeApiServer.start({ version: { major: '1', minor: '32', gitVersion: 'v1.32.13' } });
  const dir = await mkdtemp(join(tmpdir(), 'sk-ut-cpapi-'));
  cleanup.push(async () => { await api.close(); await rm(dir, { recursive: true, force: true }); });
  await applyWebhookConfiguration(api);
  const kubeconfig = await api.writeKubeconfig(dir);

  const child = spawn(process.execPath, [MAIN, '--kubeconfig', kubeconfig, '--bind-address', '127.0.0.1', '--health-port', '0', '--webhook-port', '0', '--grpc-port', '0'], {
    stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, POD_NAME: 'skein-cp-0', POD_NAMESPACE: NS },
  });
  children.add(child);
  let out = '';
  child.stdout?.on('data', (b: Buffer) => (out += b.toString()));
  child.stderr?.on('data', (b: Buffer) => (out += b.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));

  const deadline = Date.now() + 30_000; // failure guard only
  const port = async (listener: string): Promise<number> => {
    const re = new RegExp(`"listener":"${listener}","address":"127\\.0\\.0\\.1","port":(\\d+)`);
    for (;;) {
      const m = re.exec(out);
      if (m?.[1]) return Number(m[1]);
      if (Date.now() > deadline || child.exitCode !== null) throw new Error(`no ${listener} listener:\n${out}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  };
  const healthPort = await port('health');
  const webhookPort = await port('webhook');
  while ((await httpGet(healthPort, '/readyz')).status !== 200) {
    if (Date.now() > deadline) throw new Error(`never ready:\n${out}`);
    await new Promise((r) => setTimeout(r, 100));
  }

  const lease = api.get(LEASES, NS, 'skein-cp-leader');
  const spec = lease?.spec as { holderIdentity?: string; renewTime?: string; leaseDurationSeconds?: number };
  assert.equal(spec.holderIdentity, 'skein-cp-0');
  assert.equal(spec.leaseDurationSeconds, 15);
  assert.match(String(spec.renewTime), /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/);
  const pems = decodeSecretData(api.get(SECRETS, NS, 'skein-webhook-tls')?.data as Record<string, string>);
  assert.ok(pems, 'the leader wrote the TLS Secret');
  const b64 = Buffer.from(pems.ca.certPem).toString('base64');
  const webhooks = api.get(MUTATING_WEBHOOK_CONFIGURATIONS, '', 'skein-injector')?.webhooks as Array<{ clientConfig: { caBundle?: string } }>;
  assert.deepEqual(webhooks.map((w) => w.clientConfig.caBundle), [b64, b64]);
  assert.equal(await webhookAnswers(webhookPort, pems.ca.certPem), 404, 'TLS to the webhook verifies against the caBundle CA');
  assert.doesNotMatch(out, /lease read\/write failed|TLS secret sync failed/);
  assert.doesNotMatch(out, new RegExp(api.token), 'the bearer token is never logged');

  child.kill('SIGTERM');
  assert.equal(await exited, 0);
  const released = api.get(LEASES, NS, 'skein-cp-leader')?.spec as { holderIdentity?: string };
  assert.equal(released.holderIdentity, '', 'the Lease is released on shutdown');
  assert.deepEqual(api.warnings, []);
});
