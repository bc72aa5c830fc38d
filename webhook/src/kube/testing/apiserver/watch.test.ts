// Watch on the in-memory API server behaves as kube-apiserver's watch cache does (watch.ts), and the
// discovery kinds are defaulted and validated as the real registries do (kinds-discovery.ts).
import assert from 'node:assert/strict';
import type { ClientRequest } from 'node:http';
import { request } from 'node:https';
import { after, before, describe, test } from 'node:test';
import { ENDPOINT_SLICES, MESHES, PODS, SERVICES } from './kinds-discovery.js';
import { raw } from './raw-client.js';
import { FakeApiServer } from './server.js';

interface Event { type: string; object: Record<string, unknown> & { metadata?: { name?: string; resourceVersion?: string } ; code?: number; reason?: string; message?: string } }

/** A watch as a client sees it: the status, then events one by one, then the end. */
class WatchStream {
  readonly events: Event[] = [];
  ended = false;
  status = 0;
  private buf = '';
  private wake: (() => void) | undefined;
  readonly req: ClientRequest;
  constructor(api: FakeApiServer, path: string) {
    const url = new URL(path, api.url);
    this.req = request({ host: url.hostname, port: url.port, path: `${url.pathname}${url.search}`, headers: { authorization: `Bearer ${api.token}` }, ca: api.caPem, agent: false }, (res) => {
      this.status = res.statusCode ?? 0;
      res.on('data', (c: Buffer) => {
        this.buf += c.toString();
        let i;
        while ((i = this.buf.indexOf('\n')) >= 0) {
          this.events.push(JSON.parse(this.buf.slice(0, i)) as Event);
          this.buf = this.buf.slice(i + 1);
        }
        this.wake?.();
      });
      res.on('end', () => { this.ended = true; this.wake?.(); });
      res.on('error', () => { this.ended = true; this.wake?.(); });
    });
    this.req.on('error', () => { this.ended = true; this.wake?.(); });
    this.req.end();
  }
  async until(pred: () => boolean, what: string, ms = 10_000): Promise<void> {
    const deadline = Date.now() + ms;
    while (!pred()) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; events: ${JSON.stringify(this.events.map((e) => [e.type, e.object.metadata?.name]))}`);
      await new Promise<void>((r) => { this.wake = r; setTimeout(r, 50); });
    }
  }
  close(): void { this.req.destroy(); }
}

const pod = (name: string, extra: Record<string, unknown> = {}): Record<string, unknown> => ({
  apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: 'shop' }, spec: { containers: [{ name: 'app', image: 'nginx:1.27', ports: [{ name: 'http', containerPort: 8080 }] }] }, ...extra,
});
const rvOf = (o: unknown): number => Number((o as { metadata: { resourceVersion: string } }).metadata.resourceVersion);
const PODS_PATH = '/api/v1/namespaces/shop/pods';

describe('in-memory API server: watch', () => {
  let api: FakeApiServer;
  before(async () => { api = await FakeApiServer.start({ namespaces: ['default', 'shop', 'other'], watch: { watchCacheSize: 4, bookmarkIntervalMs: 100 } }); });
  after(async () => api.close());

  test('list carries the resourceVersion; a watch from it gets ADDED, MODIFIED, DELETED in order, DELETED at a new version', async () => {
    const list = await raw(api, 'GET', '/api/v1/pods');
    const listRv = rvOf(list.body);
    assert.ok(listRv > 0, 'the namespaces seeded at start already took versions');
    const w = new WatchStream(api, `/api/v1/pods?watch=true&resourceVersion=${listRv}`);
    await w.until(() => w.status === 200, 'the watch to start');
    api.seed(PODS, pod('a'));
    const got = await raw(api, 'GET', `${PODS_PATH}/a`);
    const labelled = await raw(api, 'PUT', `${PODS_PATH}/a`, { ...got.body, metadata: { ...(got.body.metadata as object), labels: { x: 'y' } } });
    assert.equal(labelled.status, 200, JSON.stringify(labelled.body));
    const deleted = await raw(api, 'DELETE', `${PODS_PATH}/a`);
    assert.equal(deleted.status, 200);
    await w.until(() => w.events.length >= 3, 'three events');
    assert.deepEqual(w.events.map((e) => e.type), ['ADDED', 'MODIFIED', 'DELETED']);
    const rvs = w.events.map((e) => rvOf(e.object));
    assert.ok(rvs[0]! > listRv && rvs[1]! > rvs[0]! && rvs[2]! > rvs[1]!, `increasing: ${rvs.join(',')}`);
    assert.ok(rvs[2]! > rvOf(deleted.body), 'the delete has its own version');
    w.close();
  });

  test('no resourceVersion: the current objects as ADDED first; a namespaced watch sees its namespace only', async () => {
    api.seed(PODS, pod('b'));
    api.seed(PODS, { ...pod('c'), metadata: { name: 'c', namespace: 'other' } });
    const w = new WatchStream(api, `${PODS_PATH}?watch=1`);
    await w.until(() => w.events.length >= 1, 'the initial event');
    assert.deepEqual(w.events.map((e) => [e.type, e.object.metadata?.name]), [['ADDED', 'b']]);
    api.seed(PODS, { ...pod('d'), metadata: { name: 'd', namespace: 'other' } });
    api.seed(PODS, pod('e'));
    await w.until(() => w.events.length >= 2, 'the live event');
    assert.deepEqual(w.events.map((e) => e.object.metadata?.name), ['b', 'e']);
    w.close();
  });

  test('a resourceVersion older than the watch cache: 200, one ERROR event with the 410 Expired Status, then the end', async () => {
    const before = rvOf((await raw(api, 'GET', '/api/v1/pods')).body);
    for (let i = 0; i < 6; i += 1) api.seed(PODS, pod(`old-${i}`)); // the ring keeps 4
    const w = new WatchStream(api, `/api/v1/pods?watch=true&resourceVersion=${before}`);
    await w.until(() => w.ended, 'the stream to end');
    assert.equal(w.status, 200);
    assert.equal(w.events.length, 1);
    const e = w.events[0]!;
    assert.equal(e.type, 'ERROR');
    assert.deepEqual({ kind: e.object.kind, code: e.object.code, reason: e.object.reason, status: e.object.status }, { kind: 'Status', code: 410, reason: 'Expired', status: 'Failure' });
    assert.match(String(e.object.message), new RegExp(`^too old resource version: ${before} \\(\\d+\\)$`));
  });

  test('a restarted watch cache refuses resumes from before the restart (410); a resume from after works', async () => {
    const before = rvOf((await raw(api, 'GET', '/api/v1/pods')).body);
    api.seed(PODS, pod('r1'));
    const open = new WatchStream(api, `/api/v1/pods?watch=true&resourceVersion=${rvOf((await raw(api, 'GET', '/api/v1/pods')).body)}`);
    await w200(open);
    api.restartWatchCache();
    await open.until(() => open.ended, 'the open watch to be cut');
    const old = new WatchStream(api, `/api/v1/pods?watch=true&resourceVersion=${before}`);
    await old.until(() => old.ended, 'the old resume to end');
    assert.equal(old.events[0]?.object.code, 410);
    const now = rvOf((await raw(api, 'GET', '/api/v1/pods')).body);
    const fresh = new WatchStream(api, `/api/v1/pods?watch=true&resourceVersion=${now}`);
    await w200(fresh);
    api.seed(PODS, pod('r2'));
    await fresh.until(() => fresh.events.some((e) => e.object.metadata?.name === 'r2'), 'r2');
    fresh.close();
  });

  test('bookmarks when asked (the current resourceVersion, no object body); timeoutSeconds ends the stream cleanly', async () => {
    const current = rvOf((await raw(api, 'GET', '/api/v1/pods')).body);
    const w = new WatchStream(api, `/api/v1/services?watch=true&allowWatchBookmarks=true&timeoutSeconds=3&resourceVersion=${current}`);
    await w.until(() => w.events.some((e) => e.type === 'BOOKMARK'), 'a bookmark');
    const b = w.events.find((e) => e.type === 'BOOKMARK')!;
    assert.deepEqual(Object.keys(b.object).sort(), ['apiVersion', 'kind', 'metadata']);
    assert.equal(b.object.kind, 'Service');
    assert.equal(rvOf(b.object), current);
    await w.until(() => w.ended, 'the timeout');
    const none = new WatchStream(api, `/api/v1/services?watch=true&timeoutSeconds=1&resourceVersion=${rvOf((await raw(api, 'GET', '/api/v1/pods')).body)}`);
    await none.until(() => none.ended, 'the timeout');
    assert.ok(!none.events.some((e) => e.type === 'BOOKMARK'), 'no bookmark unless asked');
  });

  test('bad watch parameters are refused before streaming', async () => {
    assert.equal((await raw(api, 'GET', '/api/v1/pods?watch=true&resourceVersion=abc')).status, 400);
    assert.equal((await raw(api, 'GET', '/api/v1/pods?watch=true&labelSelector=a%3Db')).status, 400);
  });
});

async function w200(w: WatchStream): Promise<void> {
  await w.until(() => w.status === 200, 'the watch to start');
}

describe('in-memory API server: discovery kinds', () => {
  let api: FakeApiServer;
  before(async () => { api = await FakeApiServer.start({ namespaces: ['default', 'shop'] }); });
  after(async () => api.close());

  test('Pod: defaults, status reset on create, status only through pods/status (podIP authoritative), spec mostly immutable', async () => {
    const created = await raw(api, 'POST', PODS_PATH, pod('p', { status: { phase: 'Running', podIP: '10.0.0.1' } }));
    assert.equal(created.status, 201, JSON.stringify(created.body));
    const spec = created.body.spec as { serviceAccountName: string; restartPolicy: string; containers: { imagePullPolicy: string; ports: { protocol: string }[] }[] };
    assert.equal(spec.serviceAccountName, 'default');
    assert.equal(spec.restartPolicy, 'Always');
    assert.equal(spec.containers[0]?.imagePullPolicy, 'IfNotPresent');
    assert.equal(spec.containers[0]?.ports[0]?.protocol, 'TCP');
    assert.deepEqual(created.body.status, { phase: 'Pending', qosClass: 'BestEffort' });
    const st = await raw(api, 'PUT', `${PODS_PATH}/p/status`, { ...created.body, status: { phase: 'Running', podIPs: [{ ip: '10.244.0.9' }, { ip: 'fd00::9' }] } });
    assert.equal(st.status, 200, JSON.stringify(st.body));
    assert.deepEqual((st.body.status as { podIP: string }).podIP, '10.244.0.9');
    const twoV4 = await raw(api, 'PUT', `${PODS_PATH}/p/status`, { ...st.body, status: { podIPs: [{ ip: '10.244.0.9' }, { ip: '10.244.0.10' }] } });
    assert.equal(twoV4.status, 422);
    assert.match(String(twoV4.body.message), /may specify no more than one IP for each IP family/);
    const viaMain = await raw(api, 'PUT', `${PODS_PATH}/p`, { ...st.body, status: { phase: 'Failed' } });
    assert.equal((viaMain.body.status as { phase: string }).phase, 'Running', 'the main resource ignores status');
    const respec = await raw(api, 'PUT', `${PODS_PATH}/p`, { ...viaMain.body, spec: { ...(viaMain.body.spec as object), serviceAccountName: 'other' } });
    assert.equal(respec.status, 422);
    assert.match(String(respec.body.message), /spec: Forbidden: pod updates may not change fields other than/);
    const bad = await raw(api, 'POST', PODS_PATH, { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'bad' }, spec: { containers: [{ name: 'App', ports: [{ containerPort: 70000, name: 'way-too-long-port-name' }] }] } });
    assert.equal(bad.status, 422);
    for (const m of [/spec.containers\[0\].name: Invalid value: "App"/, /spec.containers\[0\].image: Required value/, /containerPort: Invalid value: 70000: must be between 1 and 65535, inclusive/, /ports\[0\].name: Invalid value: "way-too-long-port-name": must be no more than 15 characters/]) {
      assert.match(String(bad.body.message), m);
    }
  });

  test('Service: a cluster IP is allocated from 10.96.0.0/16, kept on an update that omits it, refused when taken or out of range', async () => {
    const a = await raw(api, 'POST', '/api/v1/namespaces/shop/services', { metadata: { name: 'a' }, spec: { selector: { app: 'a' }, ports: [{ port: 80, targetPort: 'http' }] } });
    assert.equal(a.status, 201, JSON.stringify(a.body));
    const spec = a.body.spec as { clusterIP: string; clusterIPs: string[]; ipFamilies: string[]; ports: { protocol: string; targetPort: unknown }[]; type: string };
    assert.match(spec.clusterIP, /^10\.96\.\d+\.\d+$/);
    assert.deepEqual(spec.clusterIPs, [spec.clusterIP]);
    assert.deepEqual(spec.ipFamilies, ['IPv4']);
    assert.equal(spec.type, 'ClusterIP');
    assert.deepEqual(spec.ports[0], { port: 80, targetPort: 'http', protocol: 'TCP' });
    const taken = await raw(api, 'POST', '/api/v1/namespaces/shop/services', { metadata: { name: 'b' }, spec: { clusterIP: spec.clusterIP, ports: [{ port: 80 }] } });
    assert.equal(taken.status, 422);
    assert.match(String(taken.body.message), /provided IP is already allocated/);
    const outside = await raw(api, 'POST', '/api/v1/namespaces/shop/services', { metadata: { name: 'c' }, spec: { clusterIP: '192.168.0.1', ports: [{ port: 80 }] } });
    assert.match(String(outside.body.message), /provided IP is not in the valid range. The range of valid IPs is 10.96.0.0\/16/);
    const dual = await raw(api, 'POST', '/api/v1/namespaces/shop/services', { metadata: { name: 'd' }, spec: { ipFamilyPolicy: 'RequireDualStack', ports: [{ name: 'http', port: 80 }, { name: 'grpc', port: 90, appProtocol: 'kubernetes.io/h2c' }] } });
    assert.equal(dual.status, 201, JSON.stringify(dual.body));
    assert.deepEqual((dual.body.spec as { ipFamilies: string[] }).ipFamilies, ['IPv4', 'IPv6']);
    assert.match((dual.body.spec as { clusterIPs: string[] }).clusterIPs[1] ?? '', /^fd00:10:96::/);
    const { clusterIP: _c, clusterIPs: _cs, ...rest } = spec;
    const kept = await raw(api, 'PUT', '/api/v1/namespaces/shop/services/a', { ...a.body, spec: { ...rest, selector: { app: 'b' } } });
    assert.equal(kept.status, 200, JSON.stringify(kept.body));
    assert.equal((kept.body.spec as { clusterIP: string }).clusterIP, spec.clusterIP);
    const unnamed = await raw(api, 'POST', '/api/v1/namespaces/shop/services', { metadata: { name: 'e' }, spec: { ports: [{ port: 80 }, { port: 81 }] } });
    assert.match(String(unnamed.body.message), /spec.ports\[1\].name: Required value/);
  });

  test('EndpointSlice: address type and addresses checked, port protocol defaulted, addressType immutable', async () => {
    const path = '/apis/discovery.k8s.io/v1/namespaces/shop/endpointslices';
    const ok = await raw(api, 'POST', path, { metadata: { name: 'a-1', labels: { 'kubernetes.io/service-name': 'a' } }, addressType: 'IPv4', endpoints: [{ addresses: ['10.244.0.9'], conditions: { ready: true }, targetRef: { kind: 'Pod', name: 'p', namespace: 'shop' } }], ports: [{ name: 'http', port: 8080 }] });
    assert.equal(ok.status, 201, JSON.stringify(ok.body));
    assert.deepEqual(ok.body.ports, [{ name: 'http', port: 8080, protocol: 'TCP' }]);
    const bad = await raw(api, 'POST', path, { metadata: { name: 'a-2' }, addressType: 'IPv4', endpoints: [{ addresses: ['fd00::1'] }, { addresses: [] }] });
    assert.equal(bad.status, 422);
    assert.match(String(bad.body.message), /endpoints\[0\].addresses\[0\]: Invalid value: "fd00::1": must be a valid IPv4 address/);
    assert.match(String(bad.body.message), /endpoints\[1\].addresses: Required value/);
    const retype = await raw(api, 'PUT', `${path}/a-1`, { ...ok.body, addressType: 'IPv6', endpoints: [] });
    assert.match(String(retype.body.message), /addressType: Invalid value: "IPv6": field is immutable/);
    assert.ok(api.get(ENDPOINT_SLICES, 'shop', 'a-1'));
  });

  test('Mesh (CRD from manifests/): defaults applied, enum and pattern enforced, unknown fields pruned with a warning', async () => {
    const path = '/apis/skein.io/v1alpha1/meshes';
    const created = await raw(api, 'POST', path, { apiVersion: 'skein.io/v1alpha1', kind: 'Mesh', metadata: { name: 'default' }, spec: { mtls: { mod: 'STRICT' } } });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    assert.deepEqual(created.body.spec, { mtls: { mode: 'PERMISSIVE', certTTL: '24h' }, defaultAction: 'Allow' });
    assert.ok(created.warnings.some((w) => w.includes('unknown field \\"spec.mtls.mod\\"')), created.warnings.join('\n'));
    const strict = await raw(api, 'POST', `${path}?fieldValidation=Strict`, { apiVersion: 'skein.io/v1alpha1', kind: 'Mesh', metadata: { name: 'x' }, spec: { foo: 1 } });
    assert.equal(strict.status, 400);
    const bad = await raw(api, 'POST', path, { apiVersion: 'skein.io/v1alpha1', kind: 'Mesh', metadata: { name: 'y' }, spec: { mtls: { mode: 'strict', certTTL: '1d' } } });
    assert.equal(bad.status, 422);
    assert.match(String(bad.body.message), /spec.mtls.mode: Unsupported value: "strict": supported values: "STRICT", "PERMISSIVE"/);
    assert.match(String(bad.body.message), /spec.mtls.certTTL: Invalid value: "1d": spec.mtls.certTTL in body should match/);
    const noRv = await raw(api, 'PUT', `${path}/default`, { apiVersion: 'skein.io/v1alpha1', kind: 'Mesh', metadata: { name: 'default' }, spec: { mtls: { mode: 'STRICT' } } });
    assert.equal(noRv.status, 422, 'custom resources need a resourceVersion to update');
    const up = await raw(api, 'PUT', `${path}/default`, { ...created.body, spec: { mtls: { mode: 'STRICT', certTTL: '2m' } } });
    assert.equal(up.status, 200, JSON.stringify(up.body));
    assert.equal((up.body.metadata as { generation: number }).generation, 2);
    assert.equal(api.get(MESHES, '', 'default')?.spec !== undefined, true);
  });

  test('Namespace objects exist for the namespaces the server starts with; a created one admits objects', async () => {
    const list = await raw(api, 'GET', '/api/v1/namespaces');
    assert.deepEqual((list.body.items as { metadata: { name: string }; status: { phase: string } }[]).map((n) => [n.metadata.name, n.status.phase]), [['default', 'Active'], ['shop', 'Active']]);
    assert.equal((await raw(api, 'POST', '/api/v1/namespaces/new/services', { metadata: { name: 's' }, spec: { ports: [{ port: 80 }] } })).status, 404);
    assert.equal((await raw(api, 'POST', '/api/v1/namespaces', { metadata: { name: 'new' } })).status, 201);
    assert.equal((await raw(api, 'POST', '/api/v1/namespaces/new/services', { metadata: { name: 's' }, spec: { ports: [{ port: 80 }] } })).status, 201);
    assert.ok(api.get(SERVICES, 'new', 's'));
  });
});
