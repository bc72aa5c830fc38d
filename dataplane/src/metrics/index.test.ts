import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { counterChild, createMetrics } from './index.js';

describe('metrics', () => {
  it('a cached counter child counts into the same series as inc() with the same labels', async () => {
    const metrics = createMetrics();
    const child = counterChild(metrics.httpRequests, { direction: 'inbound', status_class: '2xx' });
    assert.equal(counterChild(metrics.httpRequests, { status_class: '2xx', direction: 'inbound' }), child, 'one child per label set');
    child.inc();
    child.inc();
    metrics.httpRequests.inc({ direction: 'inbound', status_class: '2xx' });
    const text = await metrics.registry.metrics();
    assert.match(text, /skein_dp_http_requests_total\{direction="inbound",status_class="2xx"\} 3\n/);
    child.inc();
    // Read twice: what was flushed is not added again.
    await metrics.registry.metrics();
    const values = (await metrics.httpRequests.get()).values;
    assert.deepEqual(values.map((v) => [v.labels, v.value]), [[{ direction: 'inbound', status_class: '2xx' }, 4]]);
  });
});
