import assert from 'node:assert/strict';
import net from 'node:net';
import tls from 'node:tls';
import { test } from 'node:test';
import { resetSocket } from './reset.js';

/** A connected TCP pair on loopback: [accepted side, client side]. */
async function pair(): Promise<[net.Socket, net.Socket]> {
  const server = net.createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const accepted = new Promise<net.Socket>((r) => server.once('connection', r));
  const client = net.connect((server.address() as net.AddressInfo).port, '127.0.0.1');
  const a = await accepted;
  server.close();
  return [a, client];
}

const peerError = (s: net.Socket): Promise<string> => new Promise((r) => {
  s.on('error', (e: NodeJS.ErrnoException) => r(e.code ?? 'error'));
  s.on('close', () => r('close'));
  s.resume();
});

test('a plain TCP socket is reset: the peer sees ECONNRESET', async () => {
  const [a, b] = await pair();
  const seen = peerError(b);
  resetSocket(a);
  assert.equal(await seen, 'ECONNRESET');
});

test('a TLS socket over an accepted TCP socket (resetAndDestroy throws there) resets its carrier instead of crashing', async () => {
  const [a, b] = await pair();
  const wrapped = new tls.TLSSocket(a, { isServer: true });
  wrapped.on('error', () => undefined);
  assert.throws(() => wrapped.resetAndDestroy(), { code: 'ERR_INVALID_HANDLE_TYPE' }, 'what crashed the sidecar');
  const seen = peerError(b);
  resetSocket(wrapped);
  assert.equal(await seen, 'ECONNRESET');
  assert.equal(wrapped.destroyed, true);
});
