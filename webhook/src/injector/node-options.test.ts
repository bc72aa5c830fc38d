import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DEFAULT_PROXY_RESOURCES } from './annotations.js';
import { proxyNodeOptions } from './node-options.js';

describe('NODE_OPTIONS of skein-proxy', () => {
  const withLimit = (memory: string) => ({ requests: { cpu: '100m', memory: '32Mi' }, limits: { memory } });
  it('caps the young generation and gives V8 half of the memory limit', () => {
    assert.equal(proxyNodeOptions(DEFAULT_PROXY_RESOURCES), '--max-semi-space-size=2 --max-old-space-size=128');
    assert.equal(proxyNodeOptions(withLimit('1Gi')), '--max-semi-space-size=2 --max-old-space-size=512');
    assert.equal(proxyNodeOptions(withLimit('300M')), '--max-semi-space-size=2 --max-old-space-size=143');
  });
  it('never below 32 MiB of old space, whatever the limit', () => {
    assert.equal(proxyNodeOptions(withLimit('48Mi')), '--max-semi-space-size=2 --max-old-space-size=32');
  });
  it('sets no old-space flag for a limit beyond 2 TiB (1e30 bytes used to print as 4.7e+23: node refused to start)', () => {
    assert.equal(proxyNodeOptions(withLimit('1e30')), '--max-semi-space-size=2');
    assert.equal(proxyNodeOptions(withLimit('1E')), '--max-semi-space-size=2');
    assert.equal(proxyNodeOptions(withLimit('2Ti')), '--max-semi-space-size=2 --max-old-space-size=1048576');
  });
  it('are flags Node accepts in NODE_OPTIONS', async () => {
    const { execFileSync } = await import('node:child_process');
    const out = execFileSync(process.execPath, ['-e', 'console.log(require("v8").getHeapStatistics().heap_size_limit)'],
      { env: { ...process.env, NODE_OPTIONS: proxyNodeOptions(DEFAULT_PROXY_RESOURCES) }, encoding: 'utf8' });
    const limitMiB = Number(out.trim()) / 2 ** 20;
    assert.ok(limitMiB > 128 && limitMiB < 160, `V8 heap limit ${limitMiB} MiB`);
  });
});
