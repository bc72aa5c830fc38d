// Server-speaks-first protocols through two sidecars with no annotation and no port list: Debian's sshd on
// port 22 and MariaDB behind a Service whose port (13306, named "db") says nothing about the protocol.
// A silent client must get the server's greeting at once — not after each sidecar's detection timeout
// (1 s each), which is what Istio (hangs) and Linkerd (10 s) do. The figure is printed; the assertion is
// the behaviour (well before one detection timeout), the 10 ms target lives in the bench.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { LocalMesh } from './harness/local-mesh.js';
import { namespace, pod, service } from './harness/manifests.js';
import { PYTHON3 } from './harness/paths.js';
import { pollUntil } from './harness/poll.js';
import { meshSuite } from './harness/suite.js';

const NS = 'e2e-server-first';
/** The sidecars' --detect-timeout default: waiting for it even once would take this long. */
const DETECT_TIMEOUT_MS = 1000;

/** A silent client: connects, sends nothing, prints the milliseconds until the first bytes and those bytes. */
const FIRST_BYTES = [
  'import socket, sys, time',
  't = time.monotonic()',
  's = socket.create_connection((sys.argv[1], int(sys.argv[2])), 5)',
  's.settimeout(5)',
  'd = s.recv(256)',
  'print("%.1f %s" % ((time.monotonic() - t) * 1000, d.hex()))',
].join('\n');

async function setup(m: LocalMesh): Promise<void> {
  const dir = m.filesDir;
  await m.apply([
    namespace(NS, true),
    pod({ name: 'client', namespace: NS, containers: [{ name: 'toolbox', command: ['sleep', 'infinity'] }] }),
    pod({
      name: 'sshd', namespace: NS,
      containers: [{
        name: 'sshd',
        command: ['bash', '-c', `mkdir -p /run/sshd && rm -f ${dir}/hostkey* && ssh-keygen -q -t ed25519 -N '' -f ${dir}/hostkey && exec /usr/sbin/sshd -D -e -f /dev/null -o HostKey=${dir}/hostkey -o PidFile=none -o ListenAddress=0.0.0.0 -p 22`],
        ports: [22],
      }],
    }),
    service('sshd', NS, { app: 'sshd' }, [{ name: 'ssh', port: 22, targetPort: 22 }]),
    pod({
      name: 'mariadb', namespace: NS,
      containers: [{
        name: 'mariadb',
        command: ['bash', '-c', [
          `rm -rf ${dir}/db && mariadb-install-db --no-defaults --datadir=${dir}/db --user=root --auth-root-authentication-method=normal --skip-test-db >/dev/null`,
          `exec mariadbd --no-defaults --datadir=${dir}/db --user=root --port=3306 --bind-address=0.0.0.0 --socket=${dir}/db/mysqld.sock --skip-grant-tables --skip-name-resolve`,
        ].join(' && ')],
        ports: [3306],
      }],
    }),
    // A renamed port: 13306 and "db" tell neither sidecar that MariaDB speaks first.
    service('db', NS, { app: 'mariadb' }, [{ name: 'db', port: 13306, targetPort: 3306 }]),
  ]);
  for (const p of ['client', 'sshd', 'mariadb']) await m.waitReady(NS, p);
  await pollUntil(async () => (await m.exec(NS, 'client', ['mariadb', '-h', `db.${NS}`, '-P', '13306', '-u', 'root', '-N', '-e', 'select 1'], { timeoutMs: 10_000 })).code === 0 || undefined,
    { what: 'MariaDB to accept queries through the mesh', timeoutMs: 90_000, intervalMs: 1000 });
}

async function firstBytes(m: LocalMesh, host: string, port: number): Promise<{ ms: number; bytes: Buffer }> {
  const out = (await m.execOk(NS, 'client', [PYTHON3, '-c', FIRST_BYTES, host, String(port)])).trim();
  const [ms, hex] = out.split(' ');
  return { ms: Number(ms), bytes: Buffer.from(hex ?? '', 'hex') };
}

describe('server-speaks-first protocols through two sidecars, zero configuration', () => {
  const { mesh: m, diagnosed } = meshSuite('server-first', [NS], setup);

  it('sshd on port 22 greets a silent client at once', diagnosed(async () => {
    const samples = [];
    for (let i = 0; i < 5; i++) samples.push(await firstBytes(m, `sshd.${NS}`, 22));
    for (const s of samples) assert.match(s.bytes.toString('latin1'), /^SSH-2\.0-/, 'the banner is sshd\'s');
    const worst = Math.max(...samples.map((s) => s.ms));
    console.log(`# sshd banner through two sidecars: ${samples.map((s) => s.ms.toFixed(1)).join(', ')} ms`);
    assert.ok(worst < DETECT_TIMEOUT_MS / 2, `the banner waited for protocol detection (${worst} ms)`);
    // And the protocol works end to end: ssh-keyscan reads the host key through the mesh.
    assert.match(await m.execOk(NS, 'client', ['ssh-keyscan', '-T', '5', '-t', 'ed25519', `sshd.${NS}`]), /ssh-ed25519 AAAA/);
  }));

  it('MariaDB behind a renamed Service port greets a silent client at once and answers queries', diagnosed(async () => {
    const samples = [];
    for (let i = 0; i < 5; i++) samples.push(await firstBytes(m, `db.${NS}`, 13306));
    // The MySQL handshake: a 3-byte length, sequence 0, protocol version 10, then the server version.
    for (const s of samples) {
      assert.equal(s.bytes[3], 0, 'sequence id 0');
      assert.equal(s.bytes[4], 10, 'protocol version 10');
      assert.match(s.bytes.subarray(5).toString('latin1'), /MariaDB/);
    }
    const worst = Math.max(...samples.map((s) => s.ms));
    console.log(`# MariaDB greeting through two sidecars: ${samples.map((s) => s.ms.toFixed(1)).join(', ')} ms`);
    assert.ok(worst < DETECT_TIMEOUT_MS / 2, `the greeting waited for protocol detection (${worst} ms)`);
    const rows = await m.execOk(NS, 'client', ['mariadb', '-h', `db.${NS}`, '-P', '13306', '-u', 'root', '-N', '-e', 'select 6*7']);
    assert.equal(rows.trim(), '42');
  }));

});
