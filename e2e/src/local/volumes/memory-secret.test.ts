// tmpfs emptyDirs and byte-exact Secrets/ConfigMaps on a live skein-local (root). A pod reports what
// it sees (fs type, size, a write past sizeLimit, sha256 of its volume files, env) in its log; the
// test compares with the bytes it applied, and checks /proc/self/mountinfo (the daemon's mount
// namespace is the test's) after pod deletion and after `down` following a daemon crash.
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { LocalMesh } from '../../suite/harness/local-mesh.js';
import { toYaml, type K8sObject } from '../../suite/harness/manifests.js';
import { pollUntil } from '../../suite/harness/poll.js';
import { teardownOnSignals } from '../../suite/harness/suite.js';

const mesh = new LocalMesh('memory-secret', { bridgePrefix: 'sklt', podNet: '10.250', serviceNet: '10.251' });
const NS = 'sklt-bytes';
/** Mount targets live in the work dir (containers see the host's filesystem), so they go with it. */
const MNT = join(mesh.filesDir, 'mnt');
const MiB = 2 ** 20;

// Bytes that are not UTF-8 (a lone continuation byte, an overlong lead, a surrogate) and NULs, then noise.
const SECRET_BYTES = Buffer.concat([Buffer.from([0x00, 0xff, 0xfe, 0xc3, 0x28, 0x80, 0xed, 0xa0, 0x80, 0x00, 0x0a]), randomBytes(4096)]);
const CM_BYTES = Buffer.concat([Buffer.from([0xc0, 0xaf, 0x00]), randomBytes(2048)]);
const NOTE = 'grüße ✓ $(not-expanded)\n';
const sha = (b: Buffer | string): string => createHash('sha256').update(b).digest('hex');

const objects: K8sObject[] = [
  { apiVersion: 'v1', kind: 'Namespace', metadata: { name: NS } },
  { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'blob', namespace: NS }, data: { bin: SECRET_BYTES.toString('base64') }, stringData: { 'note.txt': NOTE } },
  { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'cm', namespace: NS }, data: { text: 'plain' }, binaryData: { 'cm.bin': CM_BYTES.toString('base64') } },
];

const REPORT = [
  'set -u',
  `echo "fstype=$(stat -f -c %T ${MNT}/cache)"`,
  `echo "size=$(df -B1 --output=size ${MNT}/cache | tail -1 | tr -d ' ')"`,
  `if out=$(dd if=/dev/zero of=${MNT}/cache/fill bs=1M count=9 2>&1); then echo fill=ok; else echo "fill=failed: $out" | tr '\\n' ' '; echo; fi`,
  `rm -f ${MNT}/cache/fill`,
  `if dd if=/dev/zero of=${MNT}/cache/half bs=1M count=4 2>/dev/null; then echo half=ok; else echo half=failed; fi`,
  `sha256sum ${MNT}/secret/bin ${MNT}/secret/note.txt ${MNT}/proj/nested/blob.bin ${MNT}/proj/cm.bin ${MNT}/cm/cm.bin`,
  `echo "mode=$(stat -c %a ${MNT}/proj/nested/blob.bin)"`,
  `echo "env=$(printf '%s' "$NOTE" | sha256sum | cut -d' ' -f1)"`,
  'echo report-done',
  'exec sleep 3600',
].join('\n');

function reportPod(name: string): K8sObject {
  return {
    apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: NS },
    spec: {
      containers: [{
        name: 'app', image: 'debian:12', command: ['sh', '-c', REPORT],
        env: [{ name: 'NOTE', valueFrom: { secretKeyRef: { name: 'blob', key: 'note.txt' } } }],
        volumeMounts: [
          { name: 'cache', mountPath: `${MNT}/cache` },
          { name: 'secret', mountPath: `${MNT}/secret`, readOnly: true },
          { name: 'proj', mountPath: `${MNT}/proj`, readOnly: true },
          { name: 'cm', mountPath: `${MNT}/cm`, readOnly: true },
        ],
      }],
      volumes: [
        { name: 'cache', emptyDir: { medium: 'Memory', sizeLimit: '8Mi' } },
        { name: 'secret', secret: { secretName: 'blob' } },
        { name: 'proj', projected: { sources: [
          { secret: { name: 'blob', items: [{ key: 'bin', path: 'nested/blob.bin', mode: 0o400 }] } },
          { configMap: { name: 'cm', items: [{ key: 'cm.bin', path: 'cm.bin' }] } },
        ] } },
        { name: 'cm', configMap: { name: 'cm' } },
      ],
    },
  };
}

/** Mount points below the instance's state dir, as the daemon (same mount namespace) sees them. */
function tmpfsMounts(): string[] {
  return readFileSync('/proc/self/mountinfo', 'utf8').split('\n')
    .filter((l) => l.split(' ')[4]?.startsWith(`${mesh.stateDir}/`));
}

async function report(name: string): Promise<string> {
  return pollUntil(async () => { const l = await mesh.logs(NS, name, 'app'); return l.includes('report-done') ? l : undefined; },
    { what: `${NS}/${name} to print its report`, timeoutMs: 90_000 });
}

async function applyFile(objs: readonly K8sObject[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const file = join(mesh.workDir, `bad-${objs.length}-${Date.now()}.yaml`);
  writeFileSync(file, toYaml(objs));
  return mesh.cli(['apply', '-f', file], { timeoutMs: 60_000 });
}

describe('tmpfs emptyDir and Secret bytes (root, live skein-local)', () => {
  let release = (): void => undefined;
  before(async () => {
    release = teardownOnSignals(mesh, 'memory-secret');
    await mesh.up();
    await mesh.apply([...objects, reportPod('vols')]);
  }, { timeout: 240_000 });

  after(async () => {
    release();
    const problem = await mesh.destroy();
    if (problem) console.error(`memory-secret: cleanup problem: ${problem}`);
  }, { timeout: 150_000 });

  const diagnosed = (fn: () => Promise<void>) => async (): Promise<void> => {
    try { await fn(); } catch (err) { console.error(await mesh.dump([NS])); throw err; }
  };

  it('medium: Memory is a tmpfs of sizeLimit; a write past it fails with ENOSPC', diagnosed(async () => {
    const log = await report('vols');
    assert.match(log, /^fstype=tmpfs$/m);
    assert.match(log, new RegExp(`^size=${8 * MiB}$`, 'm'));
    assert.match(log, /^fill=failed: .*No space left on device/m);
    assert.match(log, /^half=ok$/m, 'a write within the limit succeeds');
    assert.equal(tmpfsMounts().filter((l) => / - tmpfs /.test(l)).length, 1, tmpfsMounts().join('\n'));
  }));

  it('Secret and ConfigMap bytes arrive exactly in secret, projected and configMap volumes', diagnosed(async () => {
    const log = await report('vols');
    const sums = new Map(log.split('\n').map((l) => /^([0-9a-f]{64}) {2}(.*)$/.exec(l)).filter((m) => m !== null).map((m) => [m[2]!, m[1]!]));
    assert.equal(sums.get(`${MNT}/secret/bin`), sha(SECRET_BYTES));
    assert.equal(sums.get(`${MNT}/proj/nested/blob.bin`), sha(SECRET_BYTES));
    assert.equal(sums.get(`${MNT}/secret/note.txt`), sha(NOTE), 'stringData is UTF-8');
    assert.equal(sums.get(`${MNT}/cm/cm.bin`), sha(CM_BYTES));
    assert.equal(sums.get(`${MNT}/proj/cm.bin`), sha(CM_BYTES));
    assert.match(log, /^mode=400$/m);
    assert.match(log, new RegExp(`^env=${sha(NOTE)}$`, 'm'), 'a UTF-8 secretKeyRef reaches env byte for byte, unexpanded');
  }));

  it('stores stringData merged into data, as the API server', diagnosed(async () => {
    const s = JSON.parse(await mesh.cliOk(['get', 'secret', 'blob', '-n', NS, '-o', 'json'])) as { data: Record<string, string>; stringData?: unknown; type?: string };
    assert.equal(s.stringData, undefined);
    assert.equal(s.type, 'Opaque');
    assert.ok(Buffer.from(s.data['bin']!, 'base64').equals(SECRET_BYTES));
    assert.equal(Buffer.from(s.data['note.txt']!, 'base64').toString('utf8'), NOTE);
  }));

  it('refuses Secret keys and values the API server refuses, naming the Secret and the key', diagnosed(async () => {
    const badKey = await applyFile([{ apiVersion: 'v1', kind: 'Secret', metadata: { name: 'bad-key', namespace: NS }, stringData: { 'no/slash': 'x' } }]);
    assert.equal(badKey.code, 1);
    assert.match(badKey.stderr, new RegExp(`Secret "${NS}/bad-key" is invalid: stringData\\["no/slash"\\]: Invalid value: "no/slash": a valid config key`));
    const badValue = await applyFile([{ apiVersion: 'v1', kind: 'Secret', metadata: { name: 'bad-value', namespace: NS }, data: { token: 'not base64!' } }]);
    assert.equal(badValue.code, 1);
    assert.match(badValue.stderr, new RegExp(`Secret "${NS}/bad-value" is invalid: data\\["token"\\]: value is not valid base64`));
    const got = await mesh.cli(['get', 'secret', 'bad-value', '-n', NS]);
    assert.notEqual(got.code, 0, 'a refused Secret is not stored');
  }));

  it('env from bytes that are not UTF-8 fails the container, naming env, Secret and key', diagnosed(async () => {
    await mesh.apply([{
      apiVersion: 'v1', kind: 'Pod', metadata: { name: 'badenv', namespace: NS },
      spec: { containers: [{ name: 'app', image: 'debian:12', command: ['sleep', '3600'], env: [{ name: 'BIN', valueFrom: { secretKeyRef: { name: 'blob', key: 'bin' } } }] }] },
    }]);
    const message = await pollUntil(async () => {
      const p = await mesh.pod(NS, 'badenv') as { status?: { containerStatuses?: { state?: Record<string, { reason?: string; message?: string }>; lastState?: Record<string, { reason?: string; message?: string }> }[] } };
      const cs = p.status?.containerStatuses?.[0];
      const t = cs?.state?.['terminated'] ?? cs?.lastState?.['terminated'];
      return t?.reason === 'CreateContainerError' ? t.message : undefined;
    }, { what: 'badenv to fail with CreateContainerError', timeoutMs: 60_000 });
    assert.match(message ?? '', /container app: env BIN: Secret "blob" key "bin" is not valid UTF-8/);
    assert.match(message ?? '', /mount the Secret as a volume/);
    await mesh.cliOk(['delete', 'pod', 'badenv', '-n', NS], { timeoutMs: 90_000 });
  }));

  it('pod deletion unmounts the tmpfs; down after a daemon crash unmounts a running pod\'s tmpfs', diagnosed(async () => {
    await mesh.cliOk(['delete', 'pod', 'vols', '-n', NS], { timeoutMs: 90_000 });
    assert.deepEqual(tmpfsMounts(), [], 'nothing is mounted under the state dir after the pod is deleted');
    await mesh.apply([reportPod('vols2')]);
    await report('vols2');
    assert.equal(tmpfsMounts().filter((l) => / - tmpfs /.test(l)).length, 1);
    const pid = Number(readFileSync(join(mesh.stateDir, 'daemon.pid'), 'utf8'));
    process.kill(pid, 'SIGKILL');
    await pollUntil(async () => { try { process.kill(pid, 0); return undefined; } catch { return true; } }, { what: 'the daemon to die', timeoutMs: 10_000 });
    assert.equal(tmpfsMounts().length, 1, 'the crash left the tmpfs mounted');
    await mesh.cliOk(['down'], { timeoutMs: 120_000 });
    assert.deepEqual(tmpfsMounts(), [], 'down unmounted it (from the journal)');
  }));
});
