// Runs the iptables tools as child processes. A prefix (e.g. `ip netns exec NS`, `setpriv …`) lets the
// tests run the very same apply step inside a network namespace they made, or as another user.
import { spawn } from 'node:child_process';
import { IptablesMissingError } from './errors.js';

export interface CommandResult {
  code: number;
  stdout: string;
  stderr: string;
}

export interface CommandRunner {
  /** Rejects with IptablesMissingError when `command` cannot be found; otherwise resolves with its exit code. */
  run(command: string, args: readonly string[], stdin?: string): Promise<CommandResult>;
}

export interface SpawnRunnerOptions {
  /** Command words put before the real command, e.g. ['ip', 'netns', 'exec', 'ns1']. */
  prefix?: readonly string[];
  env?: NodeJS.ProcessEnv;
}

// What `ip netns exec`, `setpriv`, `env` and `nsenter` print when the command itself is missing.
// (env quotes the name with ‘’ or '' depending on the locale.)
const NOT_FOUND_THROUGH_PREFIX = /(exec of "[^"]*" failed|failed to execute \S+|env: \S+): No such file or directory/;

export function spawnRunner(options: SpawnRunnerOptions = {}): CommandRunner {
  const prefix = options.prefix ?? [];
  return {
    run(command, args, stdin) {
      const argv = [...prefix, command, ...args];
      return new Promise<CommandResult>((resolve, reject) => {
        const child = spawn(argv[0] as string, argv.slice(1), {
          env: options.env ?? process.env,
          stdio: ['pipe', 'pipe', 'pipe'],
        });
        let stdout = '';
        let stderr = '';
        child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
        child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
        child.on('error', (err: NodeJS.ErrnoException) => {
          reject(err.code === 'ENOENT' ? new IptablesMissingError(argv[0] as string) : err);
        });
        child.on('close', (code, signal) => {
          if (code !== 0 && NOT_FOUND_THROUGH_PREFIX.test(stderr)) {
            reject(new IptablesMissingError(command));
            return;
          }
          resolve({ code: code ?? (signal ? 128 : 1), stdout, stderr });
        });
        // EPIPE when the child exits before reading its input is reported through 'close'.
        child.stdin.on('error', () => undefined);
        child.stdin.end(stdin ?? '');
      });
    },
  };
}
