// The benchmark's own instruments, checked against real processes and sockets: the HTTP client's
// response framing, the open-loop generator's charging of stalls (coordinated omission), the bulk
// path, and the CPU-profile summary (on a profile `node --cpu-prof` really wrote).
import assert from 'node:assert/strict';
import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { after, before, describe, it } from 'node:test';
import { runBulk } from './bulk-client.js';
import { runFixedRate } from './fixed-rate.js';
import { KeepAliveConn } from './http-conn.js';
import { areaOf, summariseProfiles } from './profile.js';
import { percentile, summarise } from './stats.js';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const serverScript = path.join(repoRoot, 'e2e/bench/server.mjs');

/** Starts e2e/bench/server.mjs on free ports; resolves once its first line names them. */
function startServer(env: Record<string, string> = {}): Promise<{ child: ChildProcess; http: number; bulk: number }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [serverScript], { env: { ...process.env, PORT: '0', BULK_PORT: '0', ...env }, stdio: ['ignore', 'pipe', 'inherit'] });
    child.once('error', reject);
    child.stdout?.once('data', (d: Buffer) => {
      const m = /http :(\d+) .* bulk :(\d+)/.exec(d.toString());
      if (!m) reject(new Error(`unexpected server banner: ${d.toString()}`));
      else resolve({ child, http: Number(m[1]), bulk: Number(m[2]) });
    });
  });
}

function stop(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null) return resolve();
    child.once('exit', () => resolve());
    child.kill('SIGKILL');
  });
}

describe('stats', () => {
  it('takes nearest-rank percentiles', () => {
    const xs = Float64Array.from({ length: 100 }, (_, i) => i + 1);
    assert.equal(percentile(xs, 50), 50);
    assert.equal(percentile(xs, 99), 99);
    assert.equal(percentile(xs, 100), 100);
    const s = summarise(Float64Array.from([3, 1, 2]));
    assert.deepEqual([s.min, s.p50, s.max, s.count], [1, 2, 3, 3]);
  });
});

describe('KeepAliveConn', () => {
  let server: http.Server;
  let port = 0;
  before(async () => {
    server = http.createServer((req, res) => {
      if (req.url === '/chunked') {
        res.write('a'.repeat(10));
        res.write('b'.repeat(3000));
        res.end();
      } else {
        res.writeHead(req.url === '/404' ? 404 : 200, { 'content-length': '5' });
        res.end('hello');
      }
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    port = (server.address() as AddressInfo).port;
  });
  after(() => {
    server.closeAllConnections();
    server.close();
  });

  for (const p of ['/', '/chunked', '/404']) {
    it(`frames ${p} responses and reuses the connection`, async () => {
      const conn = await KeepAliveConn.open({ host: '127.0.0.1', port, path: p });
      for (let i = 0; i < 3; i++) {
        const status = await new Promise<number>((resolve, reject) => conn.send((err, s) => (err ? reject(err) : resolve(s))));
        assert.equal(status, p === '/404' ? 404 : 200);
      }
      conn.close();
    });
  }
});

describe('fixed-rate generator', () => {
  it('charges a server stall to every request that was due during it', async () => {
    // The 50th request blocks the server for 600 ms. At 200 req/s, ~120 requests fall due meanwhile;
    // measured from their intended send time, the ~80 due in its first 400 ms all wait >= 200 ms, so more than 10% of 400 do.
    const srv = await startServer({ STALL_AT: '50', STALL_MS: '600' });
    try {
      const r = await runFixedRate({ target: { host: '127.0.0.1', port: srv.http, path: '/' }, rate: 200, durationS: 2, warmupS: 0, connections: 4 });
      assert.equal(r.errors, 0);
      assert.equal(r.completed, 400);
      assert.equal(r.sustained, true);
      assert.equal(r.generatorLagMs.count, 400);
      assert.equal(r.latencyMs.count, 400);
      // 595, not 600: the server's 600 ms timer and the client's clock may disagree by a fraction of a
      // millisecond (seen: 599.8 ms on a loaded machine); anything this close includes the stall.
      assert.ok(r.latencyMs.max >= 595, `max ${r.latencyMs.max} ms should include the 600 ms stall`);
      assert.ok(r.latencyMs.p90 >= 200, `p90 ${r.latencyMs.p90} ms: ~20% of requests were due in the stall's first 400 ms`);
      // Service time (from the actual write) hides the queueing: that is what the correction adds.
      assert.ok(r.serviceMs.p90 < r.latencyMs.p90);
    } finally {
      await stop(srv.child);
    }
  });
});

describe('fixed-rate generator when the path cannot keep up', () => {
  it('stops at the deadline and writes off what is still pending as a lower bound', async () => {
    // The 10th request blocks the server for 5 s; the schedule (1 s) plus grace (0.5 s) ends first.
    const srv = await startServer({ STALL_AT: '10', STALL_MS: '5000' });
    try {
      const r = await runFixedRate({ target: { host: '127.0.0.1', port: srv.http, path: '/' }, rate: 100, durationS: 1, warmupS: 0, connections: 4, graceS: 0.5 });
      assert.equal(r.sustained, false);
      assert.ok(r.unfinished >= 80, `unfinished ${r.unfinished}: requests 10..100 were stuck behind the stall`);
      assert.equal(r.latencyMs.count, 100, 'written-off requests still count, with their lower bound');
      assert.ok(r.latencyMs.max >= 500, 'the first stuck request had waited at least the grace period');
    } finally {
      await stop(srv.child);
    }
  });
});

describe('bulk client', () => {
  it('moves the requested bytes and gets the acknowledgement', async () => {
    const srv = await startServer();
    try {
      const r = await runBulk('127.0.0.1', srv.bulk, 32 * 1024 * 1024 + 7, 600);
      assert.equal(r.bytes, 32 * 1024 * 1024 + 7);
      assert.equal(r.complete, true);
      assert.ok(r.mbPerSec > 0);
    } finally {
      await stop(srv.child);
    }
  });
});

describe('bulk client with a time cap', () => {
  it('counts what the server acknowledged when the cap ends the transfer', async () => {
    const srv = await startServer();
    try {
      // 1 TiB cannot cross in 3 s: the transfer is cut and the last progress acknowledgement counts.
      const r = await runBulk('127.0.0.1', srv.bulk, 2 ** 40, 3);
      assert.equal(r.complete, false);
      assert.ok(r.bytes >= 16 * 1024 * 1024 && r.bytes < 2 ** 40);
    } finally {
      await stop(srv.child);
    }
  });
});

describe('summariseProfiles', () => {
  let dir = '';
  before(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'sk-ut-bench-'));
  });
  after(() => rm(dir, { recursive: true, force: true }));

  it('puts the function that burned the CPU on top', async () => {
    const script = 'function burnTheCpu(){let x=0;const end=Date.now()+300;while(Date.now()<end){x+=Math.sqrt(x+1)}return x}burnTheCpu();';
    await promisify(execFile)(process.execPath, ['--cpu-prof', '--cpu-prof-dir', dir, '-e', script]);
    const files = (await readdir(dir)).filter((f) => f.endsWith('.cpuprofile')).map((f) => path.join(dir, f));
    assert.equal(files.length, 1);
    const s = await summariseProfiles(files, repoRoot, 5);
    assert.equal(s.files, 1);
    assert.ok(s.top.length > 0 && s.top.length <= 5);
    assert.equal(s.top[0]?.function, 'burnTheCpu');
    assert.ok((s.top[0]?.pctOfBusy ?? 0) > 50);
    assert.ok(s.busyMs > 0 && s.busyMs <= s.totalMs);
    assert.ok(s.byArea.length > 0);
  });

  it('charges a native function to the area of its JavaScript caller', async () => {
    const sub = await mkdtemp(path.join(dir, 'native-'));
    const script = "const fs=require('fs');const fd=fs.openSync('/dev/null','w');" +
      "function writeLots(){const s='y'.repeat(200);for(let i=0;i<200000;i++)fs.writeSync(fd,s)}writeLots()";
    await promisify(execFile)(process.execPath, ['--cpu-prof', '--cpu-prof-dir', sub, '-e', script]);
    const files = (await readdir(sub)).map((f) => path.join(sub, f));
    const s = await summariseProfiles(files, repoRoot, 5);
    const native = s.top.find((e) => e.function === 'writeString');
    assert.ok(native, `writeString among ${JSON.stringify(s.top.map((e) => e.function))}`);
    assert.equal(native.url, '');
    assert.equal(native.via, 'node fs');
    assert.equal(s.byArea[0]?.area, 'node fs');
  });

  it('names the area a script belongs to', () => {
    assert.equal(areaOf('dataplane/dist/http/pool.js:10', 'f'), 'skein dataplane/http');
    assert.equal(areaOf('dataplane/dist/main.js:3', 'f'), 'skein dataplane/main');
    assert.equal(areaOf('file:///x/node_modules/http-proxy/lib/a.js:1', 'f'), 'npm http-proxy');
    assert.equal(areaOf('file:///x/node_modules/@grpc/grpc-js/build/a.js:1', 'f'), 'npm @grpc/grpc-js');
    assert.equal(areaOf('node:_tls_wrap:12', 'f'), 'node tls');
    assert.equal(areaOf('node:internal/stream_base_commons:1', 'f'), 'node net');
    assert.equal(areaOf('node:internal/streams/writable:1', 'f'), 'node streams');
    assert.equal(areaOf('node:_http_server:1026', 'f'), 'node http');
    assert.equal(areaOf('', '(garbage collector)'), 'v8 gc');
  });
});
