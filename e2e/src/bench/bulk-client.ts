// Bulk TCP through the path (entry point, run inside the client pod's network namespace): one
// connection, an 8-byte big-endian length then that many zero bytes, to the server's sink
// (e2e/bench/server.mjs, BULK_PORT), which acknowledges progress every 16 MiB and the last byte
// with "OK <N>". Throughput = bytes the server acknowledged / time from connect to that
// acknowledgement. A time cap keeps a slow path from running for minutes: then the last progress
// acknowledgement counts and `complete` is false. Prints one JSON object.
import net from 'node:net';

export interface BulkResult {
  bytes: number; // acknowledged by the server
  requestedBytes: number;
  complete: boolean;
  seconds: number;
  mbPerSec: number; // MB = 10^6 bytes
}

export function runBulk(host: string, port: number, bytes: number, capS = 10, timeoutMs = 60_000): Promise<BulkResult> {
  return new Promise((resolve, reject) => {
    const block = Buffer.alloc(256 * 1024);
    const start = process.hrtime.bigint();
    const sock = net.connect({ host, port });
    let left = bytes;
    let reply = '';
    let acked = 0;
    let ackedAt = start;
    let done = false;
    const finish = (complete: boolean): void => {
      if (done) return;
      done = true;
      clearTimeout(cap);
      clearTimeout(guard);
      sock.destroy();
      if (acked === 0) {
        reject(new Error(`bulk: the server acknowledged nothing (${bytes - left} of ${bytes} bytes written)`));
        return;
      }
      const seconds = Number(ackedAt - start) / 1e9;
      resolve({ bytes: acked, requestedBytes: bytes, complete, seconds, mbPerSec: Math.round((acked / seconds / 1e6) * 10) / 10 });
    };
    const cap = setTimeout(() => finish(false), capS * 1000);
    const guard = setTimeout(() => {
      done = true;
      sock.destroy();
      reject(new Error(`bulk: no answer after ${timeoutMs} ms (${bytes - left} of ${bytes} bytes written)`));
    }, timeoutMs);
    const pump = (): void => {
      while (left > 0 && !done) {
        const n = Math.min(left, block.length);
        left -= n;
        if (!sock.write(n === block.length ? block : block.subarray(0, n))) {
          sock.once('drain', pump);
          return;
        }
      }
    };
    sock.setNoDelay(true);
    sock.on('connect', () => {
      const header = Buffer.alloc(8);
      header.writeBigUInt64BE(BigInt(bytes));
      sock.write(header);
      pump();
    });
    sock.on('data', (d: Buffer) => {
      reply += d.toString('latin1');
      const lines = reply.split('\n');
      reply = lines.pop() ?? '';
      for (const line of lines) {
        const ok = /^OK (\d+)$/.exec(line);
        const n = Number(ok ? ok[1] : line);
        if (!Number.isFinite(n) || n <= 0) {
          done = true;
          sock.destroy();
          reject(new Error(`bulk: unexpected answer ${JSON.stringify(line)}`));
          return;
        }
        acked = n;
        ackedAt = process.hrtime.bigint();
        if (ok) {
          if (n !== bytes) {
            done = true;
            sock.destroy();
            reject(new Error(`bulk: server received ${n} bytes, expected ${bytes}`));
            return;
          }
          finish(true);
        }
      }
    });
    sock.on('error', (err) => {
      if (done) return;
      done = true;
      clearTimeout(cap);
      clearTimeout(guard);
      reject(err);
    });
  });
}

if (process.argv[1]?.endsWith('bulk-client.js')) {
  const [host, port, bytes, capS] = process.argv.slice(2);
  if (!host || !port || !bytes) {
    console.error('usage: bulk-client.js HOST PORT BYTES [CAP_SECONDS]');
    process.exit(2);
  }
  runBulk(host, Number(port), Number(bytes), Number(capS ?? 10))
    .then((r) => {
      console.log(JSON.stringify(r));
      process.exit(0);
    })
    .catch((err: unknown) => {
      console.error(err instanceof Error ? err.message : String(err));
      process.exit(1);
    });
}
