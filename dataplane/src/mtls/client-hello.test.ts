// The ClientHello ALPN reader: a real hello from Node's TLS client, every truncation of it, and garbage.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import net from 'node:net';
import tls from 'node:tls';
import { clientHelloAlpn, firstRecordLength, skeinAlpn } from './client-hello.js';

async function realHello(alpn: string[]): Promise<Buffer> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const got = new Promise<Buffer>((resolve) => server.once('connection', (s) => s.once('data', (d: Buffer) => { resolve(d); s.destroy(); })));
  const client = tls.connect({ host: '127.0.0.1', port: (server.address() as net.AddressInfo).port, ALPNProtocols: alpn });
  client.on('error', () => undefined);
  const hello = await got;
  client.destroy();
  server.close();
  return hello;
}

describe('ClientHello ALPN', () => {
  it('reads the offered protocols of a real hello, and needs the whole first record', async () => {
    const hello = await realHello(['skein/h1', 'http/1.1']);
    assert.deepEqual(clientHelloAlpn(hello), ['skein/h1', 'http/1.1']);
    assert.equal(skeinAlpn(['http/1.1', 'skein/tcp']), 'skein/tcp');
    assert.equal(skeinAlpn(['h2', 'http/1.1']), undefined);
    assert.equal(firstRecordLength(hello), hello.length);
    for (let n = 0; n < hello.length; n++) assert.equal(clientHelloAlpn(hello.subarray(0, n)), 'need_more', `prefix ${n}`);
  });

  it('a hello without ALPN offers nothing; non-TLS and corrupted input are not a hello, and nothing throws', async () => {
    assert.deepEqual(clientHelloAlpn(await realHello([])), []);
    assert.equal(clientHelloAlpn(Buffer.from('GET / HTTP/1.1\r\n\r\n')), undefined);
    const hello = await realHello(['skein/tcp']);
    const wrongType = Buffer.from(hello);
    wrongType[5] = 0x02; // server_hello
    assert.equal(clientHelloAlpn(wrongType), undefined);
    const longer = Buffer.from(hello);
    longer.writeUIntBE(0xffffff, 6, 3); // the hello claims more than its record
    assert.equal(clientHelloAlpn(longer), undefined);
    for (let i = 0; i < 2000; i++) {
      const b = Buffer.from(hello);
      b[5 + Math.floor(Math.random() * (b.length - 5))] = Math.floor(Math.random() * 256);
      const r = clientHelloAlpn(b);
      assert.ok(r === undefined || Array.isArray(r));
      clientHelloAlpn(Buffer.concat([Buffer.from([0x16, 0x03, 0x01]), randomBytes(200)]));
    }
  });
});
