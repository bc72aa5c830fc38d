import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import * as grpc from '@grpc/grpc-js';
import { fixedResolver } from '../transport/resolver.js';
import { startTestProxy, listenOn, closeServer, type TestProxy } from '../proxy/testing.js';
import { decodeHealthStatus, encodeHealthResponse } from './probes.js';

// A self-signed P-256 certificate for a test HTTPS app (a fixture: the kubelet, and so the proxy, must not
// verify it). Test-only key, valid until 2126; generated with openssl req -x509 -newkey ec.
const TEST_KEY = `-----BEGIN PRIVATE KEY-----
MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQg2WGJo8hLSEGWp9Os
JmTwLE6hgioaujbjgv9IFU67v3ShRANCAAQQ4K7ZVFpzQX9Bi+7KMQ1itmXEZLEe
shELZX8ZIaTpcp/iagd/GNYInnUhoHE5EZ37gxyajl7u1DFH4Soc/YBq
-----END PRIVATE KEY-----`;
const TEST_CERT = `-----BEGIN CERTIFICATE-----
MIIBmTCCAT+gAwIBAgIUP36PL29Nol2PfYGKEWP6zZHfU/8wCgYIKoZIzj0EAwIw
ITEfMB0GA1UEAwwWc2tlaW4tdGVzdC1zZWxmLXNpZ25lZDAgFw0yNjExMjUxMjUz
MjFaGA8yMTI2MTEwMTEyNTMyMVowITEfMB0GA1UEAwwWc2tlaW4tdGVzdC1zZWxm
LXNpZ25lZDBZMBMGByqGSM49AgEGCCqGSM49AwEHA0IABBDgrtlUWnNBf0GL7sox
DWK2ZcRksR6yEQtlfxkhpOlyn+JqB38Y1giedSGgcTkRnfuDHJqOXu7UMUfhKhz9
gGqjUzBRMB0GA1UdDgQWBBQYP2UPK8HL5NJZ6KiYo+r6s+YSEDAfBgNVHSMEGDAW
gBQYP2UPK8HL5NJZ6KiYo+r6s+YSEDAPBgNVHRMBAf8EBTADAQH/MAoGCCqGSM49
BAMCA0gAMEUCIQCydZI9igwM8z6PfF12m8UVEBDYTEzBwx9T6NGIxh/WMQIgDSrK
li0rZ7KHhsPLG4poljgygpAF4epLWmzitfAndwQ=
-----END CERTIFICATE-----`;

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

  before(async () => {
    app = http.createServer((req, res) => {
      seenHeaders.push(req.headers);
      const status = req.url === '/healthz' ? 200 : req.url === '/redirect' ? 302 : 500;
      res.writeHead(status, status === 302 ? { location: '/elsewhere' } : {});
      res.end();
    });
    const appPort = await listenOn(app);
    tlsApp = https.createServer({ key: TEST_KEY, cert: TEST_CERT }, (_req, res) => res.end('ok'));
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
