import { test } from 'node:test';
import assert from 'node:assert/strict';
import { configFromRecord, loadConfig, parseArgv } from './index.js';
import { ConfigError } from '../errors.js';

function flagError(fn: () => unknown): ConfigError {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof ConfigError, `expected ConfigError, got ${String(err)}`);
    return err;
  }
  assert.fail('expected a ConfigError');
}

test('defaults: kubernetes mode, contract ports, 0.0.0.0, auto native sidecar', () => {
  const c = configFromRecord({}, {});
  assert.equal(c.mode, 'kubernetes');
  assert.equal(c.webhookPort, 9443);
  assert.equal(c.grpcPort, 15012);
  assert.equal(c.healthPort, 15014);
  assert.equal(c.bindAddress, '0.0.0.0');
  assert.equal(c.nativeSidecar, 'auto');
  assert.equal(c.logLevel, 'info');
  assert.equal(c.namespace, 'skein-system');
  assert.equal(c.kubeconfig, undefined);
  assert.equal(c.help, false);
});

test('local mode binds loopback by default and resolves the state dir', () => {
  const c = configFromRecord({ mode: 'local', 'state-dir': 'rel/dir', 'webhook-port': '0' }, {});
  assert.equal(c.bindAddress, '127.0.0.1');
  assert.ok(c.stateDir?.startsWith('/') && c.stateDir.endsWith('/rel/dir'));
  assert.equal(c.webhookPort, 0);
});

test('local mode without --state-dir names the flag', () => {
  const e = flagError(() => configFromRecord({ mode: 'local' }, {}));
  assert.equal(e.flag, '--state-dir');
  assert.match(e.message, /--state-dir/);
  assert.equal(e.code, 'SKEIN_CP_BAD_FLAG');
});

test('bad values name their flag', () => {
  assert.equal(flagError(() => configFromRecord({ mode: 'cluster' }, {})).flag, '--mode');
  assert.equal(flagError(() => configFromRecord({ 'webhook-port': '70000' }, {})).flag, '--webhook-port');
  assert.equal(flagError(() => configFromRecord({ 'grpc-port': '-1' }, {})).flag, '--grpc-port');
  assert.equal(flagError(() => configFromRecord({ 'health-port': '15014x' }, {})).flag, '--health-port');
  assert.equal(flagError(() => configFromRecord({ 'native-sidecar': 'yes' }, {})).flag, '--native-sidecar');
  assert.equal(flagError(() => configFromRecord({ 'log-level': 'loud' }, {})).flag, '--log-level');
  assert.equal(flagError(() => configFromRecord({ 'bind-address': 'http://x' }, {})).flag, '--bind-address');
  assert.equal(flagError(() => configFromRecord({ 'state-dir': '/tmp/x' }, {})).flag, '--state-dir');
  assert.equal(flagError(() => configFromRecord({ mode: 'local', 'state-dir': '/x', kubeconfig: '/k' }, {})).flag, '--kubeconfig');
  assert.equal(flagError(() => configFromRecord({ mode: '' }, {})).flag, '--mode');
});

test('POD_NAMESPACE and POD_NAME come from the environment', () => {
  const c = configFromRecord({}, { POD_NAMESPACE: 'mesh-cp', POD_NAME: 'skein-cp-abc' });
  assert.equal(c.namespace, 'mesh-cp');
  assert.equal(c.podName, 'skein-cp-abc');
  const bad = flagError(() => configFromRecord({}, { POD_NAMESPACE: 'Bad_NS' }));
  assert.equal(bad.flag, 'POD_NAMESPACE');
  assert.match(bad.message, /Bad_NS.*set it to the namespace skein-cp runs in/);
  assert.match(configFromRecord({}, {}, 'node1').podName, /^node1-\d+$/);
});

test('argv parsing: values, --help, unknown flags and missing values', () => {
  const c = loadConfig(['--mode', 'local', '--state-dir=/tmp/s', '--native-sidecar', 'true', '--log-level', 'debug'], {});
  assert.equal(c.mode, 'local');
  assert.equal(c.stateDir, '/tmp/s');
  assert.equal(c.nativeSidecar, 'true');
  assert.equal(c.logLevel, 'debug');
  assert.equal(loadConfig(['--help'], {}).help, true);
  const unknown = flagError(() => parseArgv(['--webhook-prot', '1']));
  assert.equal(unknown.flag, '--webhook-prot');
  const missing = flagError(() => parseArgv(['--mode']));
  assert.match(missing.message, /--mode/);
  // Prototype keys are unknown flags like any other (reliability C3): refused, Object.prototype untouched.
  assert.equal(flagError(() => parseArgv(['--__proto__', 'x'])).flag, '--__proto__');
  assert.equal(flagError(() => parseArgv(['--constructor', 'x'])).flag, '--constructor');
  assert.equal(({} as Record<string, unknown>)['x'], undefined);
  const positional = flagError(() => parseArgv(['local']));
  assert.match(positional.message, /local/);
});

test('--dataplane-image: default undefined (skein/dataplane:<version>), a registry reference kept, junk refused', () => {
  assert.equal(configFromRecord({}, {}).dataplaneImage, undefined);
  const ref = 'registry.example.com:5000/skein/dataplane:0.1.0@sha256:0123abcd';
  assert.equal(configFromRecord({ 'dataplane-image': ref }, {}).dataplaneImage, ref);
  for (const junk of ['https://registry/skein', 'skein dataplane', '-v', 'img\n']) {
    const e = flagError(() => configFromRecord({ 'dataplane-image': junk }, {}));
    assert.equal(e.flag, '--dataplane-image');
    assert.match(e.message, /registry\.example\.com\/skein\/dataplane/);
  }
});

test('identity flags: trust domain default and validation; local store and token key only together, only in local mode', () => {
  assert.equal(configFromRecord({}, {}).trustDomain, 'cluster.local');
  assert.equal(configFromRecord({ 'trust-domain': 'prod.example.org' }, {}).trustDomain, 'prod.example.org');
  for (const bad of ['Cluster.Local', 'a..b', 'spiffe://x', 'x/y', '-x']) {
    assert.equal(flagError(() => configFromRecord({ 'trust-domain': bad }, {})).flag, '--trust-domain', bad);
  }
  const c = configFromRecord({ mode: 'local', 'state-dir': '/s/cp', 'local-store': '/s/store', 'token-public-key': 's/sa-pub.pem' }, {});
  assert.equal(c.localStore, '/s/store');
  assert.ok(c.tokenPublicKey?.startsWith('/') && c.tokenPublicKey.endsWith('/s/sa-pub.pem'));
  assert.equal(flagError(() => configFromRecord({ mode: 'local', 'state-dir': '/s', 'local-store': '/x' }, {})).flag, '--token-public-key');
  assert.equal(flagError(() => configFromRecord({ 'local-store': '/x' }, {})).flag, '--local-store');
  const plain = configFromRecord({ mode: 'local', 'state-dir': '/s' }, {});
  assert.equal(plain.localStore, undefined);
});
