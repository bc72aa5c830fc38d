// exec / logs / admin: work from state files (runtime records, logs, store), without the daemon.
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { LocalConfig } from '../config.js';
import { LocalError, NotFoundError } from '../errors.js';
import type { Pod } from '../model/types.js';
import { containerLogPath, statePaths } from '../paths.js';
import { mapSkeinDp } from '../runtime/command.js';
import { enterArgv } from '../runtime/launch.js';
import { processStartTime } from '../state/journal.js';
import { readRuntimeRecord } from '../state/runtime-record.js';

function runInherit(argv: string[], env: NodeJS.ProcessEnv): Promise<number> {
  return new Promise((r) => {
    const child = spawn(argv[0]!, argv.slice(1), { stdio: 'inherit', env });
    child.once('error', (err) => { console.error(`skein-local: ${err.message}`); r(127); });
    child.once('exit', (code, signal) => r(code ?? (signal ? 128 + 9 : 1)));
  });
}

function readEnviron(pid: number): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const kv of readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0')) {
    const i = kv.indexOf('=');
    if (i > 0) env[kv.slice(0, i)] = kv.slice(i + 1);
  }
  return env;
}

export async function exec(cfg: LocalConfig, pod: string | undefined, cmd: string[], o: { namespace?: string; container?: string }): Promise<number> {
  if (!pod || cmd.length === 0) throw new LocalError('E_USAGE', 'usage: skein-local exec POD [-n NS] [-c CONTAINER] -- CMD [ARGS…]');
  const ns = o.namespace ?? 'default';
  const rec = await readRuntimeRecord(statePaths(cfg), ns, pod);
  if (!o.container) return runInherit(['ip', 'netns', 'exec', rec.netns, ...cmd], process.env);
  const c = rec.containers[o.container];
  if (!c) throw new NotFoundError(`container "${o.container}" not found in pod ${pod} (started: ${Object.keys(rec.containers).join(', ') || 'none'})`);
  if (processStartTime(c.pid) !== c.startTime) throw new LocalError('E_NOT_RUNNING', `container "${o.container}" of pod ${pod} is not running`);
  const argv = mapSkeinDp(cmd, { repoRoot: cfg.repoRoot, nodePath: process.execPath });
  return runInherit(enterArgv(c.pid, c.cwd, { uid: c.uid, gid: c.gid }, argv), readEnviron(c.pid));
}

function defaultContainer(cfg: LocalConfig, ns: string, pod: string): string {
  try {
    const p = JSON.parse(readFileSync(join(statePaths(cfg).storeDir, 'Pod', ns, `${pod}.json`), 'utf8')) as Pod;
    return p.metadata.annotations?.['kubectl.kubernetes.io/default-container'] ?? p.spec.containers[0]!.name;
  } catch {
    throw new NotFoundError(`pod "${pod}" not found in namespace "${ns}"`);
  }
}

export function logs(cfg: LocalConfig, pod: string | undefined, o: { namespace?: string; container?: string }): number {
  if (!pod) throw new LocalError('E_USAGE', 'usage: skein-local logs POD [-n NS] [-c CONTAINER]');
  const ns = o.namespace ?? 'default';
  const container = o.container ?? defaultContainer(cfg, ns, pod);
  try {
    process.stdout.write(readFileSync(containerLogPath(statePaths(cfg), ns, pod, container)));
    return 0;
  } catch {
    throw new NotFoundError(`no logs for container "${container}" of pod ${ns}/${pod} (not started yet, or no such container)`);
  }
}

/** GET http://127.0.0.1:15000PATH from inside the pod, printing the body; exit 1 on a non-2xx answer. */
const ADMIN_SCRIPT = `
const http = require('node:http');
const req = http.get({ host: '127.0.0.1', port: 15000, path: process.argv[1], timeout: 10000 }, (res) => {
  res.pipe(process.stdout);
  res.on('end', () => { process.exitCode = res.statusCode >= 200 && res.statusCode < 300 ? 0 : 1; });
});
req.on('timeout', () => req.destroy(new Error('timed out')));
req.on('error', (e) => { process.stderr.write('admin request failed: ' + e.message + '\\n'); process.exitCode = 2; });
`;

export async function admin(cfg: LocalConfig, pod: string | undefined, path: string | undefined, o: { namespace?: string }): Promise<number> {
  if (!pod || !path) throw new LocalError('E_USAGE', 'usage: skein-local admin POD PATH [-n NS]   (e.g. admin web-1 /ready)');
  const rec = await readRuntimeRecord(statePaths(cfg), o.namespace ?? 'default', pod);
  const p = path.startsWith('/') ? path : `/${path}`;
  return runInherit(['ip', 'netns', 'exec', rec.netns, process.execPath, '-e', ADMIN_SCRIPT, p], process.env);
}
