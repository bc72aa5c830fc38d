import { describe, it, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { request } from 'undici';
import { UpstreamPools } from './pool.js';
import { listenOn, closeServer } from '../proxy/testing.js';

function get(pools: UpstreamPools, port: number, localAddress?: string): Promise<{ status: number; body: string }> {
  const upstream = pools.upstreamFor({ host: '127.0.0.1', port, ...(localAddress ? { localAddress } : {}) });
  // The proxy only dispatches; undici's request() drives the same Pool here.
  return request(`http://127.0.0.1:${port}/`, { dispatcher: upstream.pool })
    .then(async (res) => ({ status: res.statusCode, body: await res.body.text() }));
}

describe('upstream pools (undici)', () => {
  const remotes: string[] = [];
  const server = http.createServer((req, res) => {
    remotes.push(req.socket.remoteAddress ?? '');
    res.end(`from ${req.socket.remoteAddress}`);
  });
  after(() => closeServer(server));

  it('dials from the source address of the target (inbound: 127.0.0.6) and keeps the connection', async () => {
    const port = await listenOn(server);
    const pools = new UpstreamPools({ maxSocketsPerUpstream: 4, maxPools: 8, connectTimeoutMs: 1000 });
    try {
      assert.deepEqual(await get(pools, port, '127.0.0.6'), { status: 200, body: 'from 127.0.0.6' });
      // undici hands a connection back to its pool one event-loop turn after the response ended.
      await new Promise((resolve) => setImmediate(resolve));
      assert.deepEqual(await get(pools, port, '127.0.0.6'), { status: 200, body: 'from 127.0.0.6' });
      assert.deepEqual(await get(pools, port), { status: 200, body: 'from 127.0.0.1' });
      assert.equal(pools.size, 2, 'one upstream per host:port and source');
      assert.equal(pools.connectionCount(), 2, 'the second request reused the first connection');
    } finally {
      pools.destroy();
    }
  });

  it('closes the least recently used upstream when --max-upstream-pools is reached', async () => {
    const a = http.createServer((_req, res) => res.end('a'));
    const b = http.createServer((_req, res) => res.end('b'));
    const portA = await listenOn(a);
    const portB = await listenOn(b);
    const pools = new UpstreamPools({ maxSocketsPerUpstream: 4, maxPools: 1, connectTimeoutMs: 1000 });
    try {
      const first = pools.upstreamFor({ host: '127.0.0.1', port: portA });
      assert.equal((await get(pools, portA)).body, 'a');
      assert.equal((await get(pools, portB)).body, 'b');
      assert.equal(pools.size, 1);
      assert.equal(first.pool.closed, true, 'the evicted pool was closed');
      // The target is still reachable: a new pool is made for it (and the other one evicted).
      assert.equal((await get(pools, portA)).body, 'a');
    } finally {
      pools.destroy();
      await closeServer(a);
      await closeServer(b);
    }
  });
});
