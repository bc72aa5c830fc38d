// Test fixture run as a child process inside a test network namespace (and as a chosen uid):
//   node capture-probe.js serve NAME PORT[,PORT…]   listens on [::]:PORT (dual stack), prints {"ready":…};
//       answers each connection with {"server","listener","orig","local"} (orig = SO_ORIGINAL_DST)
//   node capture-probe.js connect HOST PORT [LOCAL_ADDRESS]   prints the answer or {"error": CODE}
// Test code only.
import { createConnection, createServer } from 'node:net';
import type { Socket } from 'node:net';
import { originalDestination } from '../../transport/orig-dst.js';

function answer(name: string, listener: number, socket: Socket): string {
  let orig: unknown;
  try {
    orig = originalDestination(socket);
  } catch (err) {
    orig = { error: (err as { errno?: string }).errno ?? String(err) };
  }
  return JSON.stringify({ server: name, listener, orig, local: socket.localAddress, localPort: socket.localPort });
}

function serve(name: string, ports: number[]): void {
  let listening = 0;
  for (const port of ports) {
    const server = createServer((socket) => {
      socket.on('error', () => undefined);
      socket.end(answer(name, port, socket) + '\n');
    });
    server.listen({ host: '::', port, ipv6Only: false }, () => {
      if (++listening === ports.length) process.stdout.write(JSON.stringify({ ready: name }) + '\n');
    });
  }
}

function connect(host: string, port: number, localAddress?: string): void {
  const socket = createConnection({ host, port, ...(localAddress ? { localAddress } : {}) });
  let data = '';
  socket.setEncoding('utf8');
  socket.on('data', (d: string) => (data += d));
  socket.on('end', () => process.stdout.write(data));
  socket.on('error', (err: NodeJS.ErrnoException) => process.stdout.write(JSON.stringify({ error: err.code }) + '\n'));
  socket.setTimeout(5000, () => socket.destroy(Object.assign(new Error('timeout'), { code: 'ETIMEDOUT' })));
}

const [mode, a, b, c] = process.argv.slice(2);
if (mode === 'serve' && a && b) serve(a, b.split(',').map(Number));
else if (mode === 'connect' && a && b) connect(a, Number(b), c);
else {
  process.stderr.write('usage: capture-probe serve NAME PORTS | connect HOST PORT [LOCAL]\n');
  process.exitCode = 2;
}
