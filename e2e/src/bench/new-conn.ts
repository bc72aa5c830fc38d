// The new-connection rate: each request on a connection of its own (connect, the proxies' handshakes —
// mTLS between the sidecars or the HAProxies —, one GET, close), from a few concurrent workers for a
// fixed time. Prints one JSON line. Usage: node new-conn.js URL DURATION_S WORKERS
import net from 'node:net';
import { percentile } from './stats.js';

export interface NewConnResult {
  workers: number;
  durationS: number;
  connsPerSec: number;
  completed: number;
  errors: number;
  latencyMs: { p50: number; p99: number };
}

function once(host: string, port: number, request: Buffer): Promise<number> {
  return new Promise((resolve, reject) => {
    const t0 = process.hrtime.bigint();
    const sock = net.connect({ host, port, noDelay: true });
    let head = '';
    sock.setTimeout(10_000, () => sock.destroy(new Error('timeout')));
    sock.on('connect', () => sock.write(request));
    sock.on('data', (d: Buffer) => { if (head.length < 16) head += d.toString('latin1', 0, Math.min(d.length, 16)); });
    sock.on('error', reject);
    sock.on('close', () => {
      if (!head.startsWith('HTTP/1.1 200')) { reject(new Error(`not a 200: ${JSON.stringify(head)}`)); return; }
      resolve(Number(process.hrtime.bigint() - t0) / 1e6);
    });
  });
}

async function main(): Promise<void> {
  const [urlText, durationText, workersText] = process.argv.slice(2);
  const url = new URL(urlText ?? '');
  const durationS = Number(durationText ?? '5');
  const workers = Number(workersText ?? '8');
  const port = Number(url.port || 80);
  const request = Buffer.from(`GET ${url.pathname} HTTP/1.1\r\nHost: ${url.host}\r\nConnection: close\r\n\r\n`);
  const deadline = Date.now() + durationS * 1000;
  const latencies: number[] = [];
  let errors = 0;
  const t0 = Date.now();
  await Promise.all(Array.from({ length: workers }, async () => {
    while (Date.now() < deadline) {
      try { latencies.push(await once(url.hostname, port, request)); } catch { errors++; }
    }
  }));
  const wallS = (Date.now() - t0) / 1000;
  latencies.sort((a, b) => a - b);
  const result: NewConnResult = {
    workers, durationS, completed: latencies.length, errors, connsPerSec: Math.round(latencies.length / wallS),
    latencyMs: { p50: percentile(latencies, 50), p99: percentile(latencies, 99) },
  };
  console.log(JSON.stringify(result));
}

void main();
