import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { hasGlobalIpv6 } from './ipv6.js';

// Lines as /proc/net/if_inet6 prints them: address, ifindex, prefix length, scope, flags, name.
const LOOPBACK = '00000000000000000000000000000001 01 80 10 80       lo';
const LINK_LOCAL = 'fe80000000000000f4146cfffe221258 02 40 20 80     eth0';
const ULA = 'fd000000000000000000000000000001 03 40 00 c0     eth0';
const GLOBAL = '20010db8000000000000000000000001 03 40 00 80     eth0';

describe('hasGlobalIpv6 (--ipv6 auto)', () => {
  it('is false for loopback and link-local only (an IPv4-only pod)', () => {
    assert.equal(hasGlobalIpv6(''), false);
    assert.equal(hasGlobalIpv6(`${LOOPBACK}\n${LINK_LOCAL}\n`), false);
  });

  it('is true for a ULA or global address on a non-loopback interface', () => {
    assert.equal(hasGlobalIpv6(`${LOOPBACK}\n${ULA}\n`), true);
    assert.equal(hasGlobalIpv6(`${LINK_LOCAL}\n${GLOBAL}\n`), true);
  });

  it('ignores a global-scope address on lo', () => {
    assert.equal(hasGlobalIpv6('fd000000000000000000000000000006 01 80 00 80       lo\n'), false);
  });
});
