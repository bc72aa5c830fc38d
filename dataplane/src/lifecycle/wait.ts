// `skein-dp wait`: the non-native-sidecar postStart hook. Polls the admin /ready until 200 so the kubelet
// starts the app containers only once the proxy can carry their traffic (reliability L2).
import http from 'node:http';
import type { WaitConfig } from '../config/index.js';

export type WaitOutcome = { ready: true } | { ready: false; lastError: string };

export async function waitUntilReady(config: WaitConfig): Promise<WaitOutcome> {
  const deadline = Date.now() + config.timeoutMs;
  let lastError = 'no attempt made';
  for (;;) {
    const attempt = await probeReady(config.adminPort, Math.max(1, Math.min(1000, deadline - Date.now())));
    if (attempt === 'ready') return { ready: true };
    lastError = attempt;
    if (Date.now() + config.intervalMs >= deadline) return { ready: false, lastError };
    await new Promise((resolve) => setTimeout(resolve, config.intervalMs));
  }
}

function probeReady(port: number, timeoutMs: number): Promise<string> {
  return new Promise((resolve) => {
    const req = http.get({ host: '127.0.0.1', port, path: '/ready', agent: false, timeout: timeoutMs }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode === 200 ? 'ready' : `/ready answered ${res.statusCode}`));
      res.on('error', (err) => resolve(err.message));
    });
    req.on('timeout', () => req.destroy(new Error(`no answer within ${timeoutMs} ms`)));
    req.on('error', (err) => resolve(err.message));
  });
}
