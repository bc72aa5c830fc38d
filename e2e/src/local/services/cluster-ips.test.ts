import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { InvalidError } from '../errors.js';
import type { Service } from '../model/types.js';
import { parseCidr } from '../network/cidr.js';
import { clusterIPsFor } from './cluster-ips.js';

const dual = { serviceCidr: parseCidr('10.96.0.0/16'), serviceCidr6: parseCidr('fd00:10:96::/108') };
const v4only = { serviceCidr: parseCidr('10.96.0.0/16') };
const svc = (spec: Record<string, unknown> = {}): Service => ({ apiVersion: 'v1', kind: 'Service', metadata: { name: 'web', namespace: 'shop' }, spec: { ports: [{ port: 80 }], ...spec } });
const none = new Set<string>();

describe('Service cluster IPs and IP families (as the API server sets them)', () => {
  it('without ipFamilyPolicy: SingleStack, the first family of the node (IPv4), even on a dual-stack node', () => {
    assert.deepEqual(clusterIPsFor(svc(), undefined, dual, none),
      { clusterIP: '10.96.0.1', clusterIPs: ['10.96.0.1'], ipFamilies: ['IPv4'], ipFamilyPolicy: 'SingleStack' });
  });
  it('PreferDualStack and RequireDualStack get both families, IPv4 first unless ipFamilies says otherwise', () => {
    assert.deepEqual(clusterIPsFor(svc({ ipFamilyPolicy: 'PreferDualStack' }), undefined, dual, new Set(['10.96.0.1'])),
      { clusterIP: '10.96.0.2', clusterIPs: ['10.96.0.2', 'fd00:10:96::1'], ipFamilies: ['IPv4', 'IPv6'], ipFamilyPolicy: 'PreferDualStack' });
    const v6first = clusterIPsFor(svc({ ipFamilyPolicy: 'RequireDualStack', ipFamilies: ['IPv6', 'IPv4'] }), undefined, dual, none);
    assert.deepEqual(v6first.clusterIPs, ['fd00:10:96::1', '10.96.0.1']);
    assert.equal(v6first.clusterIP, 'fd00:10:96::1');
    assert.deepEqual(clusterIPsFor(svc({ ipFamilies: ['IPv6'] }), undefined, dual, none).clusterIPs, ['fd00:10:96::1'], 'SingleStack IPv6');
  });
  it('on an IPv4-only node PreferDualStack falls back to IPv4; RequireDualStack and IPv6 are refused, saying how to fix it', () => {
    assert.deepEqual(clusterIPsFor(svc({ ipFamilyPolicy: 'PreferDualStack' }), undefined, v4only, none).ipFamilies, ['IPv4']);
    assert.throws(() => clusterIPsFor(svc({ ipFamilyPolicy: 'RequireDualStack' }), undefined, v4only, none),
      (e: Error) => e instanceof InvalidError && /service "web".*IPv4 only.*--service-cidr/.test(e.message));
    assert.throws(() => clusterIPsFor(svc({ ipFamilies: ['IPv6'] }), undefined, v4only, none), /no IPv6 service range/);
  });
  it('keeps given and stored addresses; the primary one is immutable, a secondary one may be added', () => {
    const first = clusterIPsFor(svc({ clusterIP: '10.96.3.3' }), undefined, dual, none);
    assert.deepEqual(first.clusterIPs, ['10.96.3.3']);
    const stored = svc({ ...first });
    assert.deepEqual(clusterIPsFor(svc(), stored, dual, none), first, 're-applying the same manifest changes nothing');
    const upgraded = clusterIPsFor(svc({ ipFamilyPolicy: 'PreferDualStack' }), stored, dual, none);
    assert.deepEqual(upgraded.clusterIPs, ['10.96.3.3', 'fd00:10:96::1']);
    assert.deepEqual(clusterIPsFor(svc(), svc({ ...upgraded }), dual, none), upgraded, 'a later apply without the policy keeps dual stack');
    assert.throws(() => clusterIPsFor(svc({ clusterIP: '10.96.4.4' }), stored, dual, none), /spec\.clusterIP is immutable \(10\.96\.3\.3\)/);
    assert.throws(() => clusterIPsFor(svc({ ipFamilies: ['IPv6'] }), stored, dual, none), /primary IP family is immutable/);
  });
  it('refuses malformed, out-of-range and taken addresses and contradictory fields', () => {
    assert.throws(() => clusterIPsFor(svc({ clusterIP: '10.97.0.1' }), undefined, dual, none), /not in the service range 10\.96\.0\.0\/16/);
    assert.throws(() => clusterIPsFor(svc({ clusterIP: '10.96.0.9' }), undefined, dual, new Set(['10.96.0.9'])), /already allocated/);
    assert.throws(() => clusterIPsFor(svc({ clusterIPs: ['10.96.0.9', 'fd00:10:96::9'] }), undefined, dual, none), /set spec\.ipFamilyPolicy/);
    assert.throws(() => clusterIPsFor(svc({ ipFamilyPolicy: 'DualStack' }), undefined, dual, none), /not one of SingleStack/);
    assert.throws(() => clusterIPsFor(svc({ ipFamilies: ['IPv5'] }), undefined, dual, none), /IPv5/);
    assert.throws(() => clusterIPsFor(svc({ clusterIP: 'nope' }), undefined, dual, none), /not an IP address/);
    assert.deepEqual(clusterIPsFor(svc({ ipFamilyPolicy: 'RequireDualStack', clusterIPs: ['10.96.0.9', 'FD00:10:96:0::9'] }), undefined, dual, none).clusterIPs,
      ['10.96.0.9', 'fd00:10:96::9'], 'given addresses are stored in canonical form');
  });
  it('a headless Service keeps clusterIP None', () => {
    assert.deepEqual(clusterIPsFor(svc({ clusterIP: 'None' }), undefined, dual, none), { clusterIP: 'None', clusterIPs: ['None'], ipFamilies: ['IPv4'], ipFamilyPolicy: 'SingleStack' });
  });
});
