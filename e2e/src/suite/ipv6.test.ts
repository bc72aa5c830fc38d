// IPv6 end to end on a dual-stack skein-local node: pods with both addresses, a RequireDualStack
// Service with a cluster IP of each family, and `curl -6` from an injected client through its sidecar
// (ip6tables capture: `skein-dp init --ipv6 auto` finds the pod's global IPv6 address) and the server's
// sidecar to the app, by Service name (the IPv6 hosts entry) and by pod IP.
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { contains, parseCidr } from '../local/network/cidr.js';
import { observeHops } from './harness/hops.js';
import { SIDECAR, type LocalMesh } from './harness/local-mesh.js';
import { namespace, pod, service, type K8sObject } from './harness/manifests.js';
import { PYTHON3 } from './harness/paths.js';
import { pollUntil } from './harness/poll.js';
import { meshSuite } from './harness/suite.js';

const NS = 'e2e-ipv6';
const BODY = 'hello over IPv6\n';

interface ServiceJson { spec: { clusterIP?: string; clusterIPs?: string[]; ipFamilies?: string[]; ipFamilyPolicy?: string } }
interface DualPodJson { status?: { podIP?: string; podIPs?: { ip: string }[] } }

const within = (cidr: string, ip: string): boolean => contains(parseCidr(cidr), ip);

function dualStack(svc: K8sObject, policy: string): K8sObject {
  const spec = svc.spec as Record<string, unknown>;
  return { ...svc, spec: { ...spec, ipFamilyPolicy: policy } };
}

async function setup(mesh: LocalMesh): Promise<void> {
  writeFileSync(join(mesh.filesDir, 'hello.txt'), BODY);
  await mesh.apply([
    namespace(NS, true),
    pod({ name: 'client', namespace: NS, containers: [{ name: 'toolbox', command: ['sleep', 'infinity'] }] }),
    // `--bind ::` listens on both families (IPV6_V6ONLY is off by default on Linux).
    pod({ name: 'web', namespace: NS, containers: [{ name: 'web', command: [PYTHON3, '-m', 'http.server', '8080', '--bind', '::', '--directory', mesh.filesDir], ports: [8080] }] }),
    dualStack(service('web', NS, { app: 'web' }, [{ name: 'http', port: 80, targetPort: 8080 }]), 'RequireDualStack'),
    service('web4', NS, { app: 'web' }, [{ name: 'http', port: 80, targetPort: 8080 }]),
    dualStack(service('nothing', NS, { app: 'nobody' }, [{ name: 'http', port: 80, targetPort: 8080 }]), 'PreferDualStack'),
  ]);
  for (const p of ['client', 'web']) await mesh.waitReady(NS, p);
}

describe('IPv6 through two sidecars on a dual-stack node', () => {
  const { mesh, diagnosed } = meshSuite('ipv6', [NS], setup);
  const podJson = async (name: string): Promise<DualPodJson> => JSON.parse(await mesh.cliOk(['get', 'pod', name, '-n', NS, '-o', 'json'])) as DualPodJson;
  const svcJson = async (name: string): Promise<ServiceJson> => JSON.parse(await mesh.cliOk(['get', 'service', name, '-n', NS, '-o', 'json'])) as ServiceJson;
  const ip6Of = async (name: string): Promise<string> => (await podJson(name)).status!.podIPs![1]!.ip;

  it('every pod has an IPv4 and an IPv6 address: status.podIPs lists both, status.podIP is the IPv4 one, eth0 holds both', diagnosed(async () => {
    for (const name of ['client', 'web']) {
      const st = (await podJson(name)).status!;
      const ips = (st.podIPs ?? []).map((x) => x.ip);
      assert.equal(ips.length, 2, `${name}: podIPs ${JSON.stringify(st.podIPs)}`);
      assert.equal(st.podIP, ips[0]);
      assert.ok(within(mesh.podCidr, ips[0]!), `${ips[0]} in ${mesh.podCidr}`);
      assert.ok(within(mesh.podCidr6, ips[1]!), `${ips[1]} in ${mesh.podCidr6}`);
      const addrs = await mesh.execOk(NS, name, ['ip', '-o', 'addr', 'show', 'dev', 'eth0']);
      assert.match(addrs, new RegExp(`inet ${ips[0]!.replace(/\./g, '\\.')}/`));
      assert.match(addrs, new RegExp(`inet6 ${ips[1]}/64 scope global`));
      assert.match(await mesh.execOk(NS, name, ['ip', '-6', 'route', 'show', 'default']), new RegExp(`^default via ${mesh.podCidr6.replace('::/64', '::1')} dev eth0`));
    }
  }));

  it('a RequireDualStack Service gets a cluster IP of each family; one without ipFamilyPolicy is SingleStack IPv4', diagnosed(async () => {
    const dual = (await svcJson('web')).spec;
    assert.equal(dual.ipFamilyPolicy, 'RequireDualStack');
    assert.deepEqual(dual.ipFamilies, ['IPv4', 'IPv6']);
    assert.equal(dual.clusterIPs?.length, 2, JSON.stringify(dual));
    assert.equal(dual.clusterIP, dual.clusterIPs![0]);
    assert.ok(within(mesh.serviceCidr, dual.clusterIPs![0]!) && within(mesh.serviceCidr6, dual.clusterIPs![1]!), JSON.stringify(dual));
    const single = (await svcJson('web4')).spec;
    assert.equal(single.ipFamilyPolicy, 'SingleStack');
    assert.deepEqual(single.ipFamilies, ['IPv4']);
    assert.deepEqual(single.clusterIPs, [single.clusterIP]);
    const hosts = await mesh.execOk(NS, 'client', ['cat', '/etc/hosts']);
    assert.ok(hosts.includes(`${dual.clusterIPs![1]}\tweb web.${NS}`), `an IPv6 hosts entry for web:\n${hosts}`);
  }));

  it('the client sidecar captured IPv6 too (ip6tables redirect in the pod)', diagnosed(async () => {
    const rules = await mesh.execOk(NS, 'client', ['ip6tables-save', '-t', 'nat']);
    assert.match(rules, /--to-ports 15001/, rules);
  }));

  it('curl -6 reaches the server by Service name, through both sidecars, and the server sidecar sees the client pod IPv6 address', diagnosed(async () => {
    const clientIp6 = await ip6Of('client');
    const hops = await observeHops(mesh, NS, 'client', 'web', async () => {
      const out = await mesh.execOk(NS, 'client', ['curl', '-6', '-sS', '--fail', '--max-time', '20', '-w', '\nremote=%{remote_ip}', `http://web.${NS}/hello.txt`]);
      const [body, remote] = out.split('\nremote=');
      assert.equal(body, BODY);
      assert.equal(remote, (await svcJson('web')).spec.clusterIPs![1], 'curl connected to the IPv6 cluster IP');
    });
    assert.equal(hops.clientOutbound, 1, hops.why);
    assert.equal(hops.serverInboundRequests, 1, hops.why);
    // The server sidecar logs each connection's peer: the client's own IPv6 address, not the bridge's.
    await pollUntil(async () => (await mesh.logs(NS, 'web', SIDECAR)).includes(`"src":"${clientIp6}:`) || undefined,
      { what: `web's sidecar to log a connection from ${clientIp6}`, timeoutMs: 10_000 });
  }));

  it('curl -6 reaches the server by its pod IPv6 address, through both sidecars', diagnosed(async () => {
    const webIp6 = await ip6Of('web');
    const hops = await observeHops(mesh, NS, 'client', 'web', async () => {
      assert.equal(await mesh.execOk(NS, 'client', ['curl', '-6', '-sS', '--fail', '--max-time', '20', `http://[${webIp6}]:8080/hello.txt`]), BODY);
    });
    assert.equal(hops.clientOutbound, 1, hops.why);
    assert.equal(hops.serverInboundRequests, 1, hops.why);
  }));

  it('a pod reaches its own Service over IPv6 (hairpin through ip6tables; out through its sidecar, back in through it)', diagnosed(async () => {
    const hops = await observeHops(mesh, NS, 'web', 'web', async () => {
      assert.equal(await mesh.execOk(NS, 'web', ['curl', '-6', '-sS', '--fail', '--max-time', '20', `http://web.${NS}/hello.txt`]), BODY);
    });
    assert.equal(hops.clientOutbound, 1, hops.why);
    assert.equal(hops.serverInboundRequests, 1, hops.why);
  }));

  it('an endpoint-less Service refuses IPv6 at once too (ip6tables tcp-reset; the sidecar answers 502 upstream_refused)', diagnosed(async () => {
    const script = `for i in $(seq 8); do curl -6 -s -o /dev/null --max-time 5 -w '%{http_code} %header{x-skein-error}. %{time_total}\\n' http://nothing.${NS}/; done`;
    const tries = (await mesh.shOk(NS, 'client', script, { timeoutMs: 60_000 })).trim().split('\n').map((l) => l.split(' '));
    assert.equal(tries.length, 8);
    for (const [status, code, seconds] of tries) {
      assert.deepEqual([status, code], ['502', 'upstream_refused.'], JSON.stringify(tries));
      assert.ok(Number(seconds) < 0.1, `refused in ${seconds}s: ${JSON.stringify(tries)}`);
    }
  }));
});
