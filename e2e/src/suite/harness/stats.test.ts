// The e2e suite's reading of /stats: if this misreads, every counter assertion in the suite is wrong.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { inbound, outbound, OUTBOUND_DETECT_TIMEOUTS, OUTBOUND_OPAQUE_PORT } from './counters.js';
import { delta, parseStats, sumOf } from './stats.js';

const sample = JSON.stringify({
  'skein_dp_connections_total{direction="outbound",protocol="http1"}': 3,
  'skein_dp_connections_total{direction="outbound",protocol="opaque"}': 2,
  'skein_dp_connections_total{direction="inbound",protocol="http1"}': 5,
  'skein_dp_protocol_detections_total{direction="outbound",protocol="opaque",reason="timeout"}': 1,
  'skein_dp_protocol_detections_total{direction="inbound",protocol="opaque",reason="timeout"}': 4,
  'skein_dp_protocol_detections_total{direction="outbound",protocol="opaque",reason="opaque_port"}': 7,
  'skein_dp_connections_active{direction="outbound"}': 9,
});

describe('parseStats + counters', () => {
  it('reads skein-dp JSON samples and sums by direction, ignoring other metrics', () => {
    const c = parseStats(sample);
    assert.equal(outbound(c), 5);
    assert.equal(inbound(c), 5);
    assert.equal(sumOf(c, OUTBOUND_DETECT_TIMEOUTS), 1);
    assert.equal(sumOf(c, OUTBOUND_OPAQUE_PORT), 7);
  });

  it('reads Prometheus text and `name value` lines', () => {
    const c = parseStats('# HELP x y\nskein_dp_connections_total{direction="outbound",protocol="h2"} 4\nplain_counter 2\n');
    assert.equal(outbound(c), 4);
    assert.equal(c.get('plain_counter'), 2);
  });

  it('delta lists only what changed', () => {
    const before = parseStats('{"a":1,"b":2}');
    const after = parseStats('{"a":1,"b":5,"c":1}');
    assert.deepEqual([...delta(before, after)], [['b', 3], ['c', 1]]);
  });
});
