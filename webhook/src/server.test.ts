// The TLS listeners on real sockets: certificate verified by node:tls against our CA, rotation swaps the
// certificate without a restart, gRPC health answers over TLS, unimplemented services say so.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { connect as tlsConnect } from 'node:tls';
import { connect as netConnect } from 'node:net';
import * as grpc from '@grpc/grpc-js';
import { HealthClient, HealthCheckResponse_ServingStatus, IdentityClient } from '@skein/api';
import { createCa, issueServing } from './tls/issue.js';
import { checkServing } from './tls/material.js';
import { startGrpcServer, startWebhookServer } from './server.js';

const ca = createCa();
const serve = (): ReturnType<typeof checkServing> => checkServing({ caCertPem: ca.certPem, ...issueServing(ca) });
const first = serve();
const webhook = await startWebhookServer((_req, res) => { res.end('hello'); }, first, '127.0.0.1', 0);
const rpc = await startGrpcServer(first, '127.0.0.1', 0);
after(async () => { await webhook.close(1000); await rpc.close(1000); });

function peerFingerprint(port: number, servername: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = tlsConnect({ host: '127.0.0.1', port, servername, ca: ca.certPem }, () => {
      resolve(s.getPeerX509Certificate()?.fingerprint256 ?? '');
      s.end();
    });
    s.on('error', reject);
  });
}

test('webhook serves a certificate that verifies for the Service name and localhost', async () => {
  assert.equal(await peerFingerprint(webhook.port, 'skein-cp.skein-system.svc'), first.fingerprint);
  assert.equal(await peerFingerprint(webhook.port, 'localhost'), first.fingerprint);
  await assert.rejects(peerFingerprint(webhook.port, 'not-skein.example'), /altnames|Hostname/);
});

test('rotation swaps the webhook certificate for new connections without a restart', async () => {
  const next = serve();
  webhook.rotate(next);
  assert.equal(await peerFingerprint(webhook.port, 'localhost'), next.fingerprint);
  webhook.rotate(first);
});

function creds(): grpc.ChannelCredentials {
  return grpc.credentials.createSsl(Buffer.from(ca.certPem));
}

test('gRPC health over TLS right after start (regression: first certificate was lost): server SERVING, Skein services NOT_SERVING, unknown NOT_FOUND', async () => {
  const client = new HealthClient(`localhost:${rpc.port}`, creds());
  try {
    const check = (service: string): Promise<HealthCheckResponse_ServingStatus> => new Promise((resolve, reject) => {
      client.check({ service }, (err, res) => (err ? reject(err) : resolve(res.status)));
    });
    assert.equal(await check(''), HealthCheckResponse_ServingStatus.SERVING);
    assert.equal(await check('skein.v1.Identity'), HealthCheckResponse_ServingStatus.NOT_SERVING);
    await assert.rejects(check('nope'), (e: grpc.ServiceError) => e.code === grpc.status.NOT_FOUND);
  } finally {
    client.close();
  }
});

test('Identity.Certify answers UNIMPLEMENTED with a clear message', async () => {
  const client = new IdentityClient(`localhost:${rpc.port}`, creds());
  try {
    const err = await new Promise<grpc.ServiceError>((resolve) => {
      client.certify({ token: 't', csrPem: 'x', requestedTtlSeconds: 0 }, (e) => resolve(e as grpc.ServiceError));
    });
    assert.equal(err.code, grpc.status.UNIMPLEMENTED);
    assert.match(err.details, /not implemented yet/);
  } finally {
    client.close();
  }
});

test('gRPC picks up a rotated certificate', async () => {
  const next = serve();
  rpc.rotate(next);
  assert.equal(await peerFingerprint(rpc.port, 'localhost'), next.fingerprint);
});

test('plaintext and garbage on the TLS ports are dropped; the listeners keep serving', async () => {
  for (const port of [webhook.port, rpc.port]) {
    for (const junk of ['GET / HTTP/1.1\r\nHost: x\r\n\r\n', '\x16\x03\x01\xff\xff' + 'A'.repeat(70_000)]) {
      await new Promise<void>((resolve) => {
        const s = netConnect({ host: '127.0.0.1', port }, () => s.end(Buffer.from(junk, 'latin1')));
        s.on('error', () => resolve());
        s.on('close', () => resolve());
        s.resume();
      });
    }
    assert.ok((await peerFingerprint(port, 'localhost')).length > 0);
  }
});

test('an oversized gRPC message is refused with RESOURCE_EXHAUSTED, not a crash', async () => {
  const client = new IdentityClient(`localhost:${rpc.port}`, creds());
  try {
    const err = await new Promise<grpc.ServiceError>((resolve) => {
      client.certify({ token: 't', csrPem: 'x'.repeat(2 * 1024 * 1024), requestedTtlSeconds: 0 }, (e) => resolve(e as grpc.ServiceError));
    });
    assert.equal(err.code, grpc.status.RESOURCE_EXHAUSTED);
  } finally {
    client.close();
  }
  const health = new HealthClient(`localhost:${rpc.port}`, creds());
  try {
    const status = await new Promise<HealthCheckResponse_ServingStatus>((resolve, reject) => {
      health.check({ service: '' }, (e, r) => (e ? reject(e) : resolve(r.status)));
    });
    assert.equal(status, HealthCheckResponse_ServingStatus.SERVING);
  } finally {
    health.close();
  }
});
