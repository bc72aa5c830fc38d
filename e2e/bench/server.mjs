// The benchmark's server app: the same process in every scenario (direct, skein, haproxy).
//  - HTTP/1.1 on PORT (8080): every path answers 200 with a 1 KiB body, keep-alive;
//    /healthz answers "ok" (readiness probe).
//  - bulk TCP on BULK_PORT (9000): the client sends an 8-byte big-endian length N, then N bytes;
//    the server answers "<received>\n" every 16 MiB and "OK <N>\n" once all N arrived. The length
//    prefix (rather than a half-close) keeps the protocol independent of whether a proxy forwards FIN.
// Listens on all addresses so it is reachable through the pod IP and from 127.0.0.1 (haproxy).
// Port 0 picks a free port; the first stdout line names the ports (tests read it).
// STALL_AT=N (tests only): the Nth request blocks the event loop for STALL_MS ms.
import http from 'node:http';
import net from 'node:net';
import { Buffer } from 'node:buffer';
import { setTimeout } from 'node:timers';

const port = Number(process.env.PORT ?? 8080);
const bulkPort = Number(process.env.BULK_PORT ?? 9000);
const bodySize = Number(process.env.BODY_BYTES ?? 1024);
const body = Buffer.alloc(bodySize, 'x');
const ok = Buffer.from('ok\n');

const stallAt = Number(process.env.STALL_AT ?? 0);
const stallMs = Number(process.env.STALL_MS ?? 0);
let served = 0;

const server = http.createServer((req, res) => {
  if (++served === stallAt) {
    const until = Date.now() + stallMs;
    while (Date.now() < until) { /* a stall: a GC pause, a blocked event loop */ }
  }
  // Drain any request body so the connection stays reusable.
  req.resume();
  if (req.url === '/healthz') {
    res.writeHead(200, { 'content-type': 'text/plain', 'content-length': ok.length });
    res.end(ok);
    return;
  }
  res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': body.length });
  res.end(body);
});
server.keepAliveTimeout = 120_000;
server.headersTimeout = 125_000;
server.requestTimeout = 0;
server.on('connection', (s) => s.setNoDelay(true));

// Progress acknowledgements every ACK_EVERY bytes let a time-capped client measure throughput over
// what the server really received, without waiting for all N bytes on a slow path.
const ACK_EVERY = 16 * 1024 * 1024;
const bulk = net.createServer((sock) => {
  sock.setNoDelay(true);
  let header = Buffer.alloc(0);
  let expected = -1;
  let received = 0;
  let nextAck = ACK_EVERY;
  sock.on('data', (chunk) => {
    if (expected < 0) {
      header = Buffer.concat([header, chunk]);
      if (header.length < 8) return;
      expected = Number(header.readBigUInt64BE(0));
      received = header.length - 8;
    } else {
      received += chunk.length;
    }
    if (received >= expected) {
      sock.write(`OK ${received}\n`);
      expected = Number.POSITIVE_INFINITY; // answer once
    } else if (received >= nextAck) {
      sock.write(`${received}\n`);
      nextAck = received + ACK_EVERY;
    }
  });
  sock.on('error', () => sock.destroy());
});

server.listen(port, '0.0.0.0', () => {
  bulk.listen(bulkPort, '0.0.0.0', () => {
    console.log(`bench server: http :${server.address().port} (${bodySize} B bodies), bulk :${bulk.address().port}`);
  });
});

const stop = () => { server.close(); bulk.close(); server.closeAllConnections(); setTimeout(() => process.exit(0), 200).unref(); };
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
