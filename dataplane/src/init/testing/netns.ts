// Test helper: network namespaces the tests create (prefix sk-ut-init-<pid>-N) and remove in after().
// Test code only; product code never imports it.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { spawnRunner } from '../runner.js';
import type { CommandRunner } from '../runner.js';

const run = promisify(execFile);
let counter = 0;

export class TestNetns {
  private constructor(readonly name: string) {}

  static async create(): Promise<TestNetns> {
    const name = `sk-ut-init-${process.pid}-${counter++}`;
    await run('ip', ['netns', 'add', name]);
    const ns = new TestNetns(name);
    try {
      await ns.sh('ip link set lo up');
    } catch (err) {
      await ns.destroy(); // the caller never gets it, so it could not remove it
      throw err;
    }
    return ns;
  }

  /** Runs a shell command line inside the namespace (as root); rejects on non-zero exit. */
  async sh(command: string): Promise<string> {
    const { stdout } = await run('ip', ['netns', 'exec', this.name, 'sh', '-c', command]);
    return stdout;
  }

  /** A runner for the apply step; `asUser` runs the tools as that uid/gid instead of root. */
  runner(asUser?: number, env?: NodeJS.ProcessEnv): CommandRunner {
    const prefix = ['ip', 'netns', 'exec', this.name];
    if (asUser !== undefined) prefix.push(...userPrefix(asUser, asUser));
    return spawnRunner({ prefix, ...(env ? { env } : {}) });
  }

  /** Command words that run a process inside this namespace as uid/gid. */
  prefix(uid = 0, gid = uid): string[] {
    return ['ip', 'netns', 'exec', this.name, ...(uid === 0 && gid === 0 ? [] : userPrefix(uid, gid))];
  }

  async destroy(): Promise<void> {
    // Kill whatever still runs inside (probe servers), then remove the namespace.
    await run('ip', ['netns', 'pids', this.name])
      .then(({ stdout }) => {
        for (const pid of stdout.split('\n').filter(Boolean)) {
          try {
            process.kill(Number(pid), 'SIGKILL');
          } catch {
            // already gone
          }
        }
      })
      .catch(() => undefined);
    await run('ip', ['netns', 'del', this.name]).catch(() => undefined);
  }
}

export function userPrefix(uid: number, gid: number): string[] {
  return ['setpriv', `--reuid=${uid}`, `--regid=${gid}`, '--clear-groups'];
}

/** Links two namespaces with a veth pair; returns nothing, addresses are the caller's. */
export async function linkNamespaces(a: TestNetns, aIf: string, b: TestNetns, bIf: string): Promise<void> {
  await run('ip', ['link', 'add', aIf, 'netns', a.name, 'type', 'veth', 'peer', 'name', bIf, 'netns', b.name]);
  await a.sh(`ip link set ${aIf} up`);
  await b.sh(`ip link set ${bIf} up`);
}
