import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseCidr } from './cidr.js';
import { renderJumps, renderRules } from './iptables-render.js';

const base = { bridge: 'sklt1', podCidr: parseCidr('10.250.1.0/24'), serviceCidr: parseCidr('10.251.1.0/24'), chainPrefix: 'SKL-sklt1-' };

describe('iptables rule rendering', () => {
  it('spreads a Service over its endpoints with equal probability', () => {
    const text = renderRules({ ...base, services: [{ id: 'shop/web:80', vip: '10.251.1.3', port: 80, protocol: 'tcp', endpoints: [
      { ip: '10.250.1.2', port: 8080 }, { ip: '10.250.1.3', port: 8080 }, { ip: '10.250.1.4', port: 8080 }] }] });
    const dnat = text.split('\n').filter((l) => l.includes('-j DNAT'));
    assert.equal(dnat.length, 3);
    assert.match(dnat[0]!, /-d 10\.251\.1\.3\/32 -p tcp -m tcp --dport 80 .*--probability 0\.3333333333 -j DNAT --to-destination 10\.250\.1\.2:8080/);
    assert.match(dnat[1]!, /--probability 0\.5000000000 -j DNAT --to-destination 10\.250\.1\.3:8080/);
    assert.doesNotMatch(dnat[2]!, /statistic/, 'the last endpoint takes what is left');
    assert.match(dnat[2]!, /--to-destination 10\.250\.1\.4:8080$/);
  });
  it('a Service without endpoints gets no DNAT and is refused by the filter chains: TCP with a reset, the rest with ICMP', () => {
    const text = renderRules({ ...base, services: [{ id: 'a/b:1', vip: '10.251.1.9', port: 1, protocol: 'tcp', endpoints: [] }] });
    assert.doesNotMatch(text, /-j DNAT/);
    for (const chain of ['FWD', 'OUT']) {
      const rejects = text.split('\n').filter((l) => l.startsWith(`-A SKL-sklt1-${chain} `) && l.includes('REJECT'));
      assert.deepEqual(rejects, [
        `-A SKL-sklt1-${chain} -d 10.251.1.0/24 -p tcp -j REJECT --reject-with tcp-reset`,
        `-A SKL-sklt1-${chain} -d 10.251.1.0/24 -j REJECT --reject-with icmp-port-unreachable`,
      ]);
    }
  });
  it('masquerades only hairpin traffic (a pod DNATed to itself) and off-cluster sources, never pod to pod', () => {
    const text = renderRules({ ...base, services: [
      { id: 'a/web:80', vip: '10.251.1.3', port: 80, protocol: 'tcp', endpoints: [{ ip: '10.250.1.4', port: 8080 }, { ip: '10.250.1.2', port: 8080 }] },
      { id: 'a/web:81', vip: '10.251.1.3', port: 81, protocol: 'tcp', endpoints: [{ ip: '10.250.1.4', port: 8081 }] },
      { id: 'skein-system/skein-cp:15012', vip: '10.251.1.1', port: 15012, protocol: 'tcp', endpoints: [{ ip: '127.0.0.1', port: 40000 }] },
    ] });
    const post = text.split('\n').filter((l) => l.startsWith('-A SKL-sklt1-POST'));
    assert.deepEqual(post, [
      '-A SKL-sklt1-POST -s 10.250.1.2/32 -d 10.250.1.2/32 -o sklt1 -m conntrack --ctstate DNAT -j MASQUERADE',
      '-A SKL-sklt1-POST -s 10.250.1.4/32 -d 10.250.1.4/32 -o sklt1 -m conntrack --ctstate DNAT -j MASQUERADE',
      '-A SKL-sklt1-POST ! -s 10.250.1.0/24 -o sklt1 -m conntrack --ctstate DNAT -j MASQUERADE',
    ]);
  });
  it('fences the bridge: bridge-to-bridge accepted, anything else in or out dropped', () => {
    const fwd = renderRules({ ...base, services: [] }).split('\n').filter((l) => l.startsWith('-A SKL-sklt1-FWD') && !l.includes('REJECT'));
    assert.deepEqual(fwd, ['-A SKL-sklt1-FWD -i sklt1 -o sklt1 -j ACCEPT', '-A SKL-sklt1-FWD -i sklt1 -j DROP', '-A SKL-sklt1-FWD -o sklt1 -j DROP']);
  });
  it('declares only its own chains, so --noflush leaves the rest of the host alone', () => {
    const decl = renderRules({ ...base, services: [] }).split('\n').filter((l) => l.startsWith(':'));
    assert.ok(decl.length > 0 && decl.every((l) => l.startsWith(':SKL-sklt1-')));
  });
  it('jumps in from PREROUTING/OUTPUT for the service range only', () => {
    assert.deepEqual(renderJumps(base).map(([t, c, a]) => `${t} ${c} ${a.join(' ')}`), [
      'nat PREROUTING -d 10.251.1.0/24 -j SKL-sklt1-SVC',
      'nat OUTPUT -d 10.251.1.0/24 -j SKL-sklt1-SVC',
      'nat POSTROUTING -j SKL-sklt1-POST',
      'filter FORWARD -j SKL-sklt1-FWD',
      'filter OUTPUT -d 10.251.1.0/24 -j SKL-sklt1-OUT',
    ]);
  });
});
