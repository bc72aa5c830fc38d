// `exec POD [-c CONTAINER] [-i] -- CMD…`, as kubectl exec: inside the container (default as
// containers.ts picks it) — its network, mount and UTS namespaces (its volumes), its user and groups,
// working dir and environment — entered the way exec probes enter it (launch.ts's enterArgv).
import { readFileSync } from 'node:fs';
import type { LocalConfig } from '../config.js';
import { LocalError, UsageError } from '../errors.js';
import { statePaths } from '../paths.js';
import { commandContext, mapSkeinDp } from '../runtime/command.js';
import { runAttached } from '../runtime/exec-in.js';
import { enterArgv } from '../runtime/launch.js';
import { processStartTime } from '../state/journal.js';
import { chooseContainer, containerStatus, describeState } from './containers.js';
import { readPod, readRecord } from './pod-state.js';

export interface ExecOptions { namespace?: string; container?: string; stdin?: boolean; tty?: boolean }

/** The environment the container's process was started with. */
function readEnviron(pid: number): Map<string, string> {
  const env = new Map<string, string>();
  for (const kv of readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0')) {
    const i = kv.indexOf('=');
    if (i > 0) env.set(kv.slice(0, i), kv.slice(i + 1));
  }
  return env;
}

export async function exec(cfg: LocalConfig, podName: string | undefined, cmd: string[], o: ExecOptions): Promise<number> {
  if (!podName || cmd.length === 0) {
    throw new UsageError('usage: skein-local exec POD [-n NS] [-c CONTAINER] [-i] -- CMD [ARGS…]   (e.g. exec web -- ls /)');
  }
  const ns = o.namespace ?? 'default';
  const pod = readPod(cfg, ns, podName);
  const choice = chooseContainer(pod, o.container);
  if (choice.notice) process.stderr.write(`${choice.notice}\n`);
  if (o.tty && !process.stdin.isTTY) process.stderr.write('Unable to use a TTY - input is not a terminal or the right kind of file\n');
  const name = choice.name;
  const c = readRecord(cfg, pod).containers[name];
  let env: Map<string, string> | undefined;
  try {
    if (c && processStartTime(c.pid) === c.startTime) env = readEnviron(c.pid);
  } catch { /* exited meanwhile */ }
  if (!c || !env) {
    throw new LocalError('E_NOT_RUNNING', `container "${name}" of pod ${ns}/${podName} is not running: ${describeState(containerStatus(pod, name))}; ` +
      `exec needs a running container — see \`skein-local get pod ${podName} -n ${ns}\` and \`skein-local logs ${podName} -n ${ns} -c ${name}\``);
  }
  const argv = mapSkeinDp(cmd, commandContext(cfg.repoRoot, statePaths(cfg)));
  const user = { uid: c.uid, gid: c.gid, ...(c.groups ? { groups: c.groups } : {}) };
  const code = await runAttached(enterArgv(c.pid, c.cwd, user, argv), env, o.stdin === true);
  // As kubectl: the command's exit code, and a line on stderr when it is not 0.
  if (code !== 0) process.stderr.write(`command terminated with exit code ${code}\n`);
  return code;
}
