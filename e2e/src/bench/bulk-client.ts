// Bulk TCP through the path (entry point, run inside the client pod's network namespace): one
// connection, an 8-byte big-endian length then that many zero bytes, timed from connect until the
// server (e2e/bench/server.mjs, BULK_PORT) acknowledges the last byte. Prints one JSON object.
import net from 'node:net';

export interface BulkResult {
  bytes: number;
  seconds: number;
  mbPerSec: number; // MB = 10^6 bytes
}

export function runBulk(host: string, port: number, bytes: number, timeoutMs = 120_000): Promise<BulkResult> {
  return new Promise((resolve, reject) => {
    const block = Buffer.alloc(256 * 1024);
    const start = process.hrtime.bigint();
    const sock = net.connect({ host, port });
    let left = bytes;
    let reply = '';
    const timer = setTimeout(() => {
      sock.destroy();
      reject(new Error(`bulk: no acknowledgement after ${timeoutMs} ms (${bytes - left} of ${bytes} bytes written)`));
    }, timeoutMs);
    const pump = (): void => {
      while (left > 0) {
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
      if (!reply.includes('\n')) return;
      clearTimeout(timer);
      const seconds = Number(process.hrtime.bigint() - start) / 1e9;
      sock.destroy();
      if (reply.trim() !== `OK ${bytes}`) {
        reject(new Error(`bulk: server answered ${JSON.stringify(reply.trim())}, expected "OK ${bytes}"`));
        return;
      }
      resolve({ bytes, seconds, mbPerSec: Math.round((bytes / seconds / 1e6) * 10) / 10 });
    });
    sock.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
  });
}

if (process.argv[1]?.endsWith('bulk-client.js')) {
  const [host, port, bytes] = process.argv.slice(2);
  if (!host || !port || !bytes) {
    console.error('usage: bulk-client.js HOST PORT BYTES');
    process.exit(2);
  }
  runBulk(host, Number(port), Number(bytes))
    .then((r) => {
      console.log(JSON.stringify(r));
      process.exit(0);
    })
    .catch((err: unknown) => {
      console.error(err instanceof Error ? err.message : String(err));
      process.exit(1);
    });
}
