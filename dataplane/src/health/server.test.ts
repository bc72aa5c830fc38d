import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { fixedResolver } from '../transport/resolver.js';
import { startTestProxy, listenOn, closeServer, type TestProxy } from '../proxy/testing.js';
import { decodeHealthStatus, encodeHealthResponse } from './probes.js';

function get(port: number, path: string, method = 'GET'): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, path, method, agent: false }, (res) => {
      let body = '';
      res.on('data', (c: Buffer) => { body += c.toString(); });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('health server /app-health runs the original probes', () => {
  let app: http.Server;
  let tlsApp: https.Server;
  let tcpOnly: net.Server;
  let grpcServer: grpc.Server;
  let tp: TestProxy;
  let closedPort: number;
  const seenHeaders: http.IncomingHttpHeaders[] = [];
  let dir: string;

  before(async () => {
    app = http.createServer((req, res) => {
      seenHeaders.push(req.headers);
      const status = req.url === '/healthz' ? 200 : req.url === '/redirect' ? 302 : 500;
      res.writeHead(status, status === 302 ? { location: '/elsewhere' } : {});
      res.end();
    });
    const appPort = await listenOn(app);
    dir = mkdtempSync(join(tmpdir(), 'sk-ut-dp-health-'));
    execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-days', '1',
      '-subj', '/CN=self-signed', '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem')], { stdio: 'ignore' });
    tlsApp = https.createServer({ key: readFileSync(join(dir, 'key.pem')), cert: readFileSync(join(dir, 'cert.pem')) }, (_req, res) => res.end('ok'));
    const tlsPort = await listenOn(tlsApp);
    tcpOnly = net.createServer((s) => s.end());
    const tcpPort = await listenOn(tcpOnly);
    const closed = net.createServer();
    closedPort = await listenOn(closed);
    await closeServer(closed);
    grpcServer = new grpc.Server();
    const serving = new Map([['', 1], ['sick', 2]]);
    grpcServer.addService({
      Check: {
        path: '/grpc.health.v1.Health/Check', requestStream: false, responseStream: false,
        requestSerialize: (v: Buffer) => v, requestDeserialize: (b: Buffer) => b,
        responseSerialize: (v: number) => encodeHealthResponse(v), responseDeserialize: (b: Buffer) => decodeHealthStatus(b),
      },
    }, {
      Check: (call: grpc.ServerUnaryCall<Buffer, number>, cb: grpc.sendUnaryData<number>) => {
        const service = call.request.length > 2 ? call.request.subarray(2).toString() : '';
        const status = serving.get(service);
        if (status === undefined) return cb({ code: grpc.status.NOT_FOUND, details: 'unknown service' });
        cb(null, status);
      },
    });
    const grpcPort = await new Promise<number>((resolve, reject) => grpcServer.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (e, p) => (e ? reject(e) : resolve(p))));
    const probes = {
      web: {
        liveness: { httpGet: { path: '/healthz', port: appPort, httpHeaders: [{ name: 'X-Probe', value: 'yes' }] }, timeoutSeconds: 2 },
        readiness: { httpGet: { path: '/fail', port: appPort } },
        startup: { httpGet: { path: '/redirect', port: String(appPort) } },
      },
      tls: { liveness: { httpGet: { path: '/', port: tlsPort, scheme: 'HTTPS' } } },
      db: { liveness: { tcpSocket: { port: tcpPort } }, readiness: { tcpSocket: { port: closedPort } } },
      rpc: { liveness: { grpc: { port: grpcPort } }, readiness: { grpc: { port: grpcPort, service: 'sick' } } },
    };
    tp = await startTestProxy(fixedResolver({ address: '127.0.0.1', port: 9, family: 4 }), [], {}, { SKEIN_ORIGINAL_PROBES: JSON.stringify(probes) });
  });
  after(async () => {
    await tp?.close();
    grpcServer?.forceShutdown();
    for (const s of [app, tlsApp, tcpOnly]) if (s) await closeServer(s);
    rmSync(dir, { recursive: true, force: true });
  });

  const health = (): number => tp.proxy.addresses.health.port;

  it('httpGet: 2xx and 3xx are 200, 5xx is 503, probe headers are sent', async () => {
    assert.equal((await get(health(), '/app-health/web/liveness')).status, 200);
    assert.equal(seenHeaders.at(-1)?.['x-probe'], 'yes');
    assert.equal((await get(health(), '/app-health/web/readiness')).status, 503);
    assert.equal((await get(health(), '/app-health/web/startup')).status, 200);
  });

  it('httpGet over HTTPS does not verify the certificate (as the kubelet)', async () => {
    assert.equal((await get(health(), '/app-health/tls/liveness')).status, 200);
  });

  it('tcpSocket: connect succeeds → 200, refused → 503', async () => {
    assert.equal((await get(health(), '/app-health/db/liveness')).status, 200);
    assert.equal((await get(health(), '/app-health/db/readiness')).status, 503);
  });

  it('grpc: grpc.health.v1 SERVING → 200, NOT_SERVING → 503', async () => {
    assert.equal((await get(health(), '/app-health/rpc/liveness')).status, 200);
    const sick = await get(health(), '/app-health/rpc/readiness');
    assert.equal(sick.status, 503);
    assert.match(sick.body, /NOT_SERVING/);
  });

  it('unknown container or kind → 404; __proto__ is just an unknown container', async () => {
    assert.equal((await get(health(), '/app-health/nope/liveness')).status, 404);
    assert.equal((await get(health(), '/app-health/web/bogus')).status, 404);
    assert.equal((await get(health(), '/app-health/db/startup')).status, 404);
    assert.equal((await get(health(), '/app-health/__proto__/liveness')).status, 404);
  });

  it('/ready, /live and /metrics; POST is 405', async () => {
    assert.equal((await get(health(), '/ready')).status, 200);
    assert.equal((await get(health(), '/live')).status, 200);
    assert.match((await get(health(), '/metrics')).body, /skein_dp_http_requests_total/);
    assert.equal((await get(health(), '/ready', 'POST')).status, 405);
  });
});
