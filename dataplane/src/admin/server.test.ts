import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import net from 'node:net';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fixedResolver } from '../transport/resolver.js';
import { startTestProxy, type TestProxy } from '../proxy/testing.js';

const run = promisify(execFile);

function call(port: number, method: string, path: string, headers: http.OutgoingHttpHeaders = {}): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, method, path, headers, agent: false }, (res) => {
      let body = '';
      res.on('data', (c: Buffer) => { body += c.toString(); });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('admin server', () => {
  let tp: TestProxy;
  let port: number;
  before(async () => {
    tp = await startTestProxy(fixedResolver({ address: '127.0.0.1', port: 9, family: 4 }), [], {},
      { SKEIN_TOKEN_PATH: '/var/run/secrets/skein/token/token', POD_NAME: 'web-0' });
    port = tp.proxy.addresses.admin.port;
  });
  after(() => tp.close());

  it('answers /ready, /live, /stats, /metrics and /config_dump to loopback callers', async () => {
    assert.equal((await call(port, 'GET', '/ready')).status, 200);
    assert.equal((await call(port, 'GET', '/live')).status, 200);
    const stats = JSON.parse((await call(port, 'GET', '/stats')).body) as Record<string, unknown>;
    assert.equal(stats['state'], 'ready');
    const metrics = await call(port, 'GET', '/metrics');
    assert.match(metrics.body, /skein_dp_connections_total/);
    const dump = JSON.parse((await call(port, 'GET', '/config_dump')).body) as Record<string, unknown>;
    assert.deepEqual(dump['endpoints'], []);
    assert.deepEqual(dump['policies'], []);
    assert.ok((dump['opaquePorts'] as number[]).includes(3306));
    assert.equal((dump['pod'] as Record<string, string>)['name'], 'web-0');
  });

  it('/config_dump names the token and CA files but never holds their contents or a key', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'sk-ut-dp-admin-'));
    let other: TestProxy | undefined;
    try {
      const tokenPath = join(dir, 'token');
      const caPath = join(dir, 'root-cert.pem');
      await writeFile(tokenPath, 'eyJhbGciOiJSUzI1NiJ9.secret-token-body.sig');
      await writeFile(caPath, '-----BEGIN PRIVATE KEY-----\nc2VjcmV0LWtleQ==\n-----END PRIVATE KEY-----\n');
      other = await startTestProxy(fixedResolver({ address: '127.0.0.1', port: 9, family: 4 }), [], {},
        { SKEIN_TOKEN_PATH: tokenPath, SKEIN_CA_PATH: caPath });
      const dump = await call(other.proxy.addresses.admin.port, 'GET', '/config_dump');
      assert.equal(dump.status, 200);
      assert.ok(dump.body.includes(tokenPath) && dump.body.includes(caPath), 'the file paths are shown');
      for (const secret of ['secret-token-body', 'PRIVATE KEY', 'c2VjcmV0LWtleQ']) assert.ok(!dump.body.includes(secret), secret);
    } finally {
      await other?.close();
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('state-changing endpoints are POST-only; GET gets 405 and changes nothing', async () => {
    for (const path of ['/drain', '/quitquitquit']) {
      const res = await call(port, 'GET', path);
      assert.equal(res.status, 405, path);
      assert.equal(res.headers['allow'], 'POST');
    }
    assert.equal((await call(port, 'GET', '/ready')).status, 200, 'still ready');
  });

  it('refuses cross-origin requests and never sends CORS headers', async () => {
    const res = await call(port, 'POST', '/logging?level=debug', { origin: 'http://evil.example' });
    assert.equal(res.status, 403);
    for (const path of ['/ready', '/stats', '/config_dump', '/logging']) {
      const r = await call(port, 'GET', path);
      assert.equal(Object.keys(r.headers).filter((h) => h.startsWith('access-control-')).length, 0);
    }
  });

  it('/logging reads and changes the level; an invalid level is a 400', async () => {
    assert.equal(JSON.parse((await call(port, 'GET', '/logging')).body).level, 'debug');
    assert.equal((await call(port, 'POST', '/logging?level=warn')).status, 200);
    assert.equal(JSON.parse((await call(port, 'GET', '/logging')).body).level, 'warn');
    assert.equal((await call(port, 'POST', '/logging?level=verbose')).status, 400);
    assert.equal(JSON.parse((await call(port, 'GET', '/logging')).body).level, 'warn');
    await call(port, 'POST', '/logging?level=debug');
  });

  it('POST /drain: /ready turns 503 and the inbound listener stops accepting, outbound keeps listening', async () => {
    const other = await startTestProxy(fixedResolver({ address: '127.0.0.1', port: 9, family: 4 }));
    try {
      const adminPort = other.proxy.addresses.admin.port;
      assert.equal((await call(adminPort, 'POST', '/drain')).status, 202);
      assert.equal((await call(adminPort, 'GET', '/ready')).status, 503);
      const refused = await new Promise<string>((resolve) => {
        const s = net.connect(other.proxy.addresses.inbound.port, '127.0.0.1', () => { s.destroy(); resolve('connected'); });
        s.on('error', (e: NodeJS.ErrnoException) => resolve(e.code ?? 'error'));
      });
      assert.equal(refused, 'ECONNREFUSED');
      const outbound = await new Promise<string>((resolve) => {
        const s = net.connect(other.proxy.addresses.outbound.port, '127.0.0.1', () => { s.destroy(); resolve('connected'); });
        s.on('error', (e: NodeJS.ErrnoException) => resolve(e.code ?? 'error'));
      });
      assert.equal(outbound, 'connected');
    } finally {
      await other.close();
    }
  });

  it('drain closes idle keep-alive HTTP connections right away', async () => {
    const upstream = http.createServer((_req, res) => res.end('ok'));
    await new Promise<void>((r) => upstream.listen(0, '127.0.0.1', r));
    const other = await startTestProxy(fixedResolver({ address: '127.0.0.1', port: (upstream.address() as net.AddressInfo).port, family: 4 }),
      ['--drain-timeout', '60s']);
    try {
      const agent = new http.Agent({ keepAlive: true });
      const closed = new Promise<void>((resolve) => {
        const req = http.get({ host: '127.0.0.1', port: other.proxy.addresses.inbound.port, path: '/', agent }, (res) => res.resume());
        req.on('socket', (socket) => socket.once('close', () => resolve()));
      });
      await new Promise((r) => setTimeout(r, 100));
      assert.equal(other.proxy.activeConnections(), 1, 'the idle keep-alive connection is open');
      await call(other.proxy.addresses.admin.port, 'POST', '/drain');
      await closed;
      assert.equal(other.proxy.activeConnections(), 0);
      agent.destroy();
    } finally {
      await other.close();
      upstream.closeAllConnections();
      await new Promise((r) => upstream.close(r));
    }
  });

  it('POST /quitquitquit answers, then stops the proxy', async () => {
    const other = await startTestProxy(fixedResolver({ address: '127.0.0.1', port: 9, family: 4 }));
    const res = await call(other.proxy.addresses.admin.port, 'POST', '/quitquitquit');
    assert.equal(res.status, 200);
    await other.proxy.stopped;
    assert.equal(other.proxy.state.name(), 'stopped');
    const refused = await new Promise<string>((resolve) => {
      const s = net.connect(other.proxy.addresses.outbound.port, '127.0.0.1', () => { s.destroy(); resolve('connected'); });
      s.on('error', (e: NodeJS.ErrnoException) => resolve(e.code ?? 'error'));
    });
    assert.equal(refused, 'ECONNREFUSED');
  });
});

describe('admin server refuses non-loopback callers (D1)', () => {
  const ns = `sk-ut-dp-${process.pid}`;
  const hostIf = `skdp${process.pid % 100000}h`;
  const nsIf = `skdp${process.pid % 100000}n`;
  const subnet = `10.254.${process.pid % 250}`;
  let tp: TestProxy;

  before(async () => {
    await run('ip', ['netns', 'add', ns]);
    await run('ip', ['link', 'add', hostIf, 'type', 'veth', 'peer', 'name', nsIf, 'netns', ns]);
    await run('ip', ['addr', 'add', `${subnet}.1/30`, 'dev', hostIf]);
    await run('ip', ['link', 'set', hostIf, 'up']);
    await run('ip', ['-n', ns, 'addr', 'add', `${subnet}.2/30`, 'dev', nsIf]);
    await run('ip', ['-n', ns, 'link', 'set', nsIf, 'up']);
    await run('ip', ['-n', ns, 'link', 'set', 'lo', 'up']);
    // Bound to :: on purpose (dual stack): the peer then shows up as ::ffff:10.254.x.2 and must still be refused.
    tp = await startTestProxy(fixedResolver({ address: '127.0.0.1', port: 9, family: 4 }), [], { adminAddress: '::' });
  });
  after(async () => {
    await tp?.close();
    await run('ip', ['link', 'del', hostIf]).catch(() => undefined);
    await run('ip', ['netns', 'del', ns]).catch(() => undefined);
  });

  it('a request from another address gets 403 (also as IPv4-mapped IPv6); loopback is allowed', async () => {
    const url = `http://${subnet}.1:${tp.proxy.addresses.admin.port}`;
    for (const path of ['/ready', '/config_dump', '/stats']) {
      const { stdout } = await run('ip', ['netns', 'exec', ns, 'curl', '-s', '-o', '/dev/null', '-w', '%{http_code}', '--max-time', '5', `${url}${path}`]);
      assert.equal(stdout, '403', path);
    }
    const { stdout } = await run('ip', ['netns', 'exec', ns, 'curl', '-s', '-o', '/dev/null', '-w', '%{http_code}', '--max-time', '5', '-X', 'POST', `${url}/quitquitquit`]);
    assert.equal(stdout, '403');
    assert.equal(tp.proxy.state.name(), 'ready', 'the refused quit changed nothing');
    assert.equal((await call(tp.proxy.addresses.admin.port, 'GET', '/ready')).status, 200);
  });
});
