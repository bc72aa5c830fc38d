import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Pod } from '../model/types.js';
import { keyDataOf } from '../store/key-data.js';
import { buildEnv, EnvError, expandVars, fieldRefValue, formatMap, parseQuantity, resourceValue, type Lookup } from './env.js';

const node = { hostIP: '10.250.0.1', cpuCores: 4, memoryBytes: 8 * 1024 ** 3 };
const pod: Pod = {
  apiVersion: 'v1', kind: 'Pod',
  metadata: { name: 'web-1', namespace: 'shop', uid: 'u-1', labels: { app: 'web', 'skein.io/inject': 'enabled' }, annotations: { 'skein.io/original-probes': '{"web":{}}' } },
  spec: { nodeName: 'skein-local', serviceAccountName: 'frontend', containers: [{ name: 'web', resources: { limits: { cpu: '500m', memory: '64Mi' } } }] },
  status: { phase: 'Running', podIP: '10.250.0.7' },
};
const objects = [
  { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'cfg' }, data: { greeting: 'hello', level: 'debug' }, binaryData: { blob: 'AAE=' } },
  { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'sec' }, data: { password: Buffer.from('s3cret').toString('base64') } },
  { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'bytes' }, data: {
    utf8: Buffer.from('pässwörd ✓\n').toString('base64'), latin1: Buffer.from([0x70, 0xe4, 0x73, 0x73]).toString('base64'),
    nul: Buffer.from([0x61, 0x00, 0x62]).toString('base64'),
  } },
];
const lookup: Lookup = (kind, name) => {
  const o = objects.find((x) => x.kind === kind && x.metadata.name === name);
  return o ? keyDataOf(o) : undefined;
};

describe('downward API', () => {
  it('resolves every supported fieldRef', () => {
    const cases: [string, string][] = [
      ['metadata.name', 'web-1'], ['metadata.namespace', 'shop'], ['metadata.uid', 'u-1'],
      ["metadata.labels['app']", 'web'], ["metadata.labels['skein.io/inject']", 'enabled'],
      ["metadata.annotations['skein.io/original-probes']", '{"web":{}}'], ["metadata.labels['absent']", ''],
      ['spec.nodeName', 'skein-local'], ['spec.serviceAccountName', 'frontend'],
      ['status.podIP', '10.250.0.7'], ['status.hostIP', '10.250.0.1'],
    ];
    for (const [path, want] of cases) assert.equal(fieldRefValue(pod, path, node), want, path);
    assert.equal(fieldRefValue(pod, 'spec.volumes', node), undefined);
  });
  it('formats label maps as the downwardAPI volume does', () => {
    assert.equal(formatMap({ b: '2', a: 'x"y' }), 'a="x\\"y"\nb="2"');
  });
  it('approximates resourceFieldRef from limits, or node capacity when unset', () => {
    const c = pod.spec.containers[0]!;
    assert.equal(resourceValue(c, 'limits.cpu', undefined, node), '1', 'rounds 500m up to 1 core');
    assert.equal(resourceValue(c, 'limits.cpu', '1m', node), '500');
    assert.equal(resourceValue(c, 'limits.memory', '1Mi', node), '64');
    assert.equal(resourceValue({ name: 'x' }, 'limits.cpu', undefined, node), '4');
    assert.equal(resourceValue({ name: 'x' }, 'requests.memory', undefined, node), '0');
    assert.equal(parseQuantity('2Gi'), 2 * 1024 ** 3);
  });
});

describe('$(VAR) expansion', () => {
  const vars = new Map([['A', 'alpha'], ['B', 'b$(A)']]);
  it('replaces known references, keeps unknown ones, and unescapes $$', () => {
    assert.equal(expandVars('x-$(A)-$(NOPE)-$$(A)-$$', vars), 'x-alpha-$(NOPE)-$(A)-$');
  });
  it('is not recursive (as kubelet)', () => {
    assert.equal(expandVars('$(B)', vars), 'b$(A)');
  });
});

describe('container env', () => {
  it('builds env with valueFrom, envFrom and expansion against earlier entries', () => {
    const env = buildEnv(pod, {
      name: 'web',
      envFrom: [{ configMapRef: { name: 'cfg' }, prefix: 'CFG_' }],
      env: [
        { name: 'POD_NAME', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } },
        { name: 'GREETING', value: '$(CFG_greeting) from $(POD_NAME) at $(POD_IP)' },
        { name: 'POD_IP', valueFrom: { fieldRef: { fieldPath: 'status.podIP' } } },
        { name: 'PASSWORD', valueFrom: { secretKeyRef: { name: 'sec', key: 'password' } } },
        { name: 'OPTIONAL', valueFrom: { configMapKeyRef: { name: 'missing', key: 'k', optional: true } } },
        { name: 'CPU', valueFrom: { resourceFieldRef: { resource: 'limits.cpu', divisor: '1m' } } },
      ],
    }, node, lookup, new Map([['PATH', '/usr/bin']]));
    assert.equal(env.get('CFG_level'), 'debug');
    assert.equal(env.get('GREETING'), 'hello from web-1 at $(POD_IP)', 'POD_IP is defined later, so it stays unexpanded');
    assert.equal(env.get('PASSWORD'), 's3cret');
    assert.equal(env.has('OPTIONAL'), false);
    assert.equal(env.get('CPU'), '500');
    assert.equal(env.get('PATH'), '/usr/bin');
  });
  it('passes UTF-8 Secret bytes exactly; refuses bytes that are not UTF-8 or hold NUL, naming env, Secret and key', () => {
    const env = buildEnv(pod, { name: 'web', env: [{ name: 'U', valueFrom: { secretKeyRef: { name: 'bytes', key: 'utf8' } } }] }, node, lookup);
    assert.equal(env.get('U'), 'pässwörd ✓\n');
    assert.throws(() => buildEnv(pod, { name: 'web', env: [{ name: 'L', valueFrom: { secretKeyRef: { name: 'bytes', key: 'latin1' } } }] }, node, lookup),
      (e: Error) => e instanceof EnvError && e.message.startsWith('container web: env L: Secret "bytes" key "latin1" is not valid UTF-8') && /mount the Secret as a volume/.test(e.message));
    assert.throws(() => buildEnv(pod, { name: 'web', envFrom: [{ secretRef: { name: 'bytes' } }] }, node, lookup),
      (e: Error) => e instanceof EnvError && /envFrom: Secret "bytes" key "latin1" is not valid UTF-8/.test(e.message));
    assert.throws(() => buildEnv(pod, { name: 'web', env: [{ name: 'N', valueFrom: { secretKeyRef: { name: 'bytes', key: 'nul' } } }] }, node, lookup),
      /env N: Secret "bytes" key "nul" contains a NUL byte/);
  });
  it('reads ConfigMap data, not binaryData, into env (as kubelet)', () => {
    const env = buildEnv(pod, { name: 'web', envFrom: [{ configMapRef: { name: 'cfg' } }] }, node, lookup);
    assert.deepEqual([...env.keys()].sort(), ['greeting', 'level']);
    assert.throws(() => buildEnv(pod, { name: 'web', env: [{ name: 'B', valueFrom: { configMapKeyRef: { name: 'cfg', key: 'blob' } } }] }, node, lookup),
      /ConfigMap "cfg" key "blob" not found/);
  });
  it('names the container and the missing reference', () => {
    assert.throws(() => buildEnv(pod, { name: 'web', env: [{ name: 'X', valueFrom: { secretKeyRef: { name: 'nope', key: 'k' } } }] }, node, lookup),
      (e: Error) => e instanceof EnvError && /container web/.test(e.message) && /Secret "nope"/.test(e.message));
    assert.throws(() => buildEnv(pod, { name: 'web', env: [{ name: 'X', valueFrom: { fieldRef: { fieldPath: 'spec.bogus' } } }] }, node, lookup), /spec\.bogus/);
  });
});
