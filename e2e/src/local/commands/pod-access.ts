// logs / admin: work from state files (store, runtime records, logs), without the daemon. exec: exec.ts.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import type { LocalConfig } from '../config.js';
import { NotFoundError, UsageError } from '../errors.js';
import { containerLogPath, statePaths } from '../paths.js';
import { chooseContainer, containerStatus, describeState, SIDECAR_NAME } from './containers.js';
import { streamFileToStdout } from './output.js';
import { readPod, readRecord } from './pod-state.js';

export async function logs(cfg: LocalConfig, podName: string | undefined, o: { namespace?: string; container?: string }): Promise<number> {
  if (!podName) throw new UsageError('usage: skein-local logs POD [-n NS] [-c CONTAINER]');
  const ns = o.namespace ?? 'default';
  const pod = readPod(cfg, ns, podName);
  const choice = chooseContainer(pod, o.container);
  if (choice.notice) process.stderr.write(`${choice.notice}\n`);
  const file = containerLogPath(statePaths(cfg), ns, podName, choice.name);
  if (!existsSync(file)) {
    throw new NotFoundError(`container "${choice.name}" of pod ${ns}/${podName} has no logs yet: ${describeState(containerStatus(pod, choice.name))}; ` +
      `see \`skein-local get pod ${podName} -n ${ns}\``);
  }
  await streamFileToStdout(file);
  return 0;
}

/** GET http://127.0.0.1:15000PATH from inside the pod, printing the body; exit 1 on a non-2xx answer. */
const ADMIN_SCRIPT = `
const http = require('node:http');
const req = http.get({ host: '127.0.0.1', port: 15000, path: process.argv[1], timeout: 10000 }, (res) => {
  res.pipe(process.stdout);
  res.on('end', () => { process.exitCode = res.statusCode >= 200 && res.statusCode < 300 ? 0 : 1; });
});
req.on('timeout', () => req.destroy(new Error('timed out')));
req.on('error', (e) => { process.stderr.write('admin request to 127.0.0.1:15000' + process.argv[1] + ' in pod ' + process.argv[2] + ' failed: ' + e.message + ' (is its skein-proxy ready? see skein-local logs ' + process.argv[3] + ')\\n'); process.exitCode = 2; });
`;

export async function admin(cfg: LocalConfig, podName: string | undefined, path: string | undefined, o: { namespace?: string }): Promise<number> {
  if (!podName || !path) throw new UsageError('usage: skein-local admin POD PATH [-n NS]   (e.g. admin web-1 /ready)');
  const ns = o.namespace ?? 'default';
  const pod = readPod(cfg, ns, podName);
  if (![...pod.spec.containers, ...(pod.spec.initContainers ?? [])].some((c) => c.name === SIDECAR_NAME)) {
    throw new NotFoundError(`pod ${ns}/${podName} has no ${SIDECAR_NAME} sidecar, so no admin port: label its namespace ` +
      `skein.io/inject=enabled and re-create the pod to mesh it`);
  }
  const rec = readRecord(cfg, pod);
  const p = path.startsWith('/') ? path : `/${path}`;
  const argv = ['ip', 'netns', 'exec', rec.netns, process.execPath, '-e', ADMIN_SCRIPT, p, `${ns}/${podName}`, `${podName} -n ${ns} -c ${SIDECAR_NAME}`];
  return new Promise((r) => {
    const child = spawn(argv[0]!, argv.slice(1), { stdio: ['ignore', 'inherit', 'inherit'] });
    child.once('error', (err) => { process.stderr.write(`skein-local: admin: cannot run ip netns exec: ${err.message}\n`); r(1); });
    child.once('exit', (code) => r(code ?? 1));
  });
}
