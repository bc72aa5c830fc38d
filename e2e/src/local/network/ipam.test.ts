import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Pod } from '../model/types.js';
import { parseCidr } from './cidr.js';
import { allocatePodIPs, podIPsOf } from './ipam.js';

const pod = (ips: string[]): Pod => ({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p' }, spec: { containers: [] },
  status: { phase: 'Running', podIP: ips[0], podIPs: ips.map((ip) => ({ ip })) } });

describe('pod addresses', () => {
  it('an IPv4-only node gives one address, never the gateway', () => {
    assert.deepEqual(allocatePodIPs({ podCidr: parseCidr('10.250.1.0/24') }, []), { ip: '10.250.1.2' });
  });
  it('a dual-stack node gives one per family, skipping addresses other pods hold', () => {
    const cfg = { podCidr: parseCidr('10.250.1.0/24'), podCidr6: parseCidr('fd00:10:250:1::/64') };
    const got = allocatePodIPs(cfg, [pod(['10.250.1.2', 'fd00:10:250:1:0::2'])]);
    assert.deepEqual(got, { ip: '10.250.1.3', ip6: 'fd00:10:250:1::3' });
    assert.deepEqual(podIPsOf(got), [{ ip: '10.250.1.3' }, { ip: 'fd00:10:250:1::3' }]);
  });
  it('reports an exhausted range naming it', () => {
    const cfg = { podCidr: parseCidr('10.250.1.0/30') };
    assert.throws(() => allocatePodIPs(cfg, [pod(['10.250.1.2'])]), /no free pod address left in 10\.250\.1\.0\/30/);
  });
});
