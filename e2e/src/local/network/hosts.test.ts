import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { renderHosts } from './hosts.js';

describe('pod /etc/hosts', () => {
  const services = [
    { name: 'web', namespace: 'shop', ips: ['10.251.0.5'] },
    { name: 'db', namespace: 'data', ips: ['10.251.0.6'] },
  ];
  const text = renderHosts({ name: 'client-1', namespace: 'shop', ip: '10.250.0.9' }, services);
  const lines = text.trimEnd().split('\n');

  it('has localhost and the pod itself', () => {
    assert.ok(lines.includes('127.0.0.1\tlocalhost'));
    assert.ok(lines.includes('10.250.0.9\tclient-1'));
  });
  it('names Services of the own namespace by their short name too', () => {
    assert.ok(lines.includes('10.251.0.5\tweb web.shop web.shop.svc web.shop.svc.cluster.local'));
  });
  it('names Services of other namespaces only qualified', () => {
    assert.ok(lines.includes('10.251.0.6\tdb.data db.data.svc db.data.svc.cluster.local'));
  });
  it('is stable whatever the order of the Services (so unchanged files are not rewritten)', () => {
    assert.equal(renderHosts({ name: 'client-1', namespace: 'shop', ip: '10.250.0.9' }, [...services].reverse()), text);
  });
  it('uses spec.hostname when set', () => {
    assert.match(renderHosts({ name: 'p', namespace: 'x', hostname: 'custom', ip: '10.250.0.3' }, []), /10\.250\.0\.3\tcustom\n/);
  });
  it('a dual-stack pod and Service get a line per address (curl -6 resolves the Service name to its IPv6 VIP)', () => {
    const dual = renderHosts({ name: 'c', namespace: 'shop', ip: '10.250.0.9', ip6: 'fd00:10:250::9' },
      [{ name: 'web', namespace: 'shop', ips: ['10.251.0.5', 'fd00:10:251::5'] }]).trimEnd().split('\n');
    assert.ok(dual.includes('10.250.0.9\tc'));
    assert.ok(dual.includes('fd00:10:250::9\tc'));
    assert.ok(dual.includes('10.251.0.5\tweb web.shop web.shop.svc web.shop.svc.cluster.local'));
    assert.ok(dual.includes('fd00:10:251::5\tweb web.shop web.shop.svc web.shop.svc.cluster.local'));
  });
});
