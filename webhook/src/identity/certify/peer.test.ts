import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { peerAddress } from './peer.js';

describe('peerAddress (grpc-js getPeer)', () => {
  it('takes the host of IPv4, unbracketed and bracketed IPv6, and IPv4-mapped IPv6 peers', () => {
    assert.equal(peerAddress('10.0.0.5:41234'), '10.0.0.5');
    assert.equal(peerAddress('::1:41234'), '::1');
    assert.equal(peerAddress('fd00::a:5:443'), 'fd00::a:5');
    assert.equal(peerAddress('[fd00::5]:443'), 'fd00::5');
    assert.equal(peerAddress('::ffff:10.0.0.5:5000'), '10.0.0.5');
    assert.equal(peerAddress('FD00::B:1'), 'fd00::b');
  });

  it('is undefined for what is not an address', () => {
    assert.equal(peerAddress('unknown'), undefined);
    assert.equal(peerAddress('unix:/run/x.sock'), undefined);
    assert.equal(peerAddress(''), undefined);
  });
});
