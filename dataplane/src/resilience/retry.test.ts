import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { mayRetry } from './retry.js';

describe('retry eligibility', () => {
  it('retries any request that never reached the upstream, a POST with a body included', () => {
    assert.equal(mayRetry('POST', true, 'connect'), true);
  });
  it('retries idempotent requests on a broken connection or a 503, not on other statuses', () => {
    for (const m of ['GET', 'HEAD', 'OPTIONS', 'PUT', 'DELETE']) {
      assert.equal(mayRetry(m, false, 'connection'), true, m);
      assert.equal(mayRetry(m, false, 'status', 503), true, m);
    }
    assert.equal(mayRetry('GET', false, 'status', 500), false);
    assert.equal(mayRetry('GET', false, 'status', 502), false);
  });
  it('never retries a POST or PATCH that reached the upstream, nor a request whose body was sent', () => {
    assert.equal(mayRetry('POST', true, 'connection'), false);
    assert.equal(mayRetry('POST', false, 'status', 503), false);
    assert.equal(mayRetry('PATCH', false, 'connection'), false);
    assert.equal(mayRetry('PUT', true, 'status', 503), false);
  });
});
