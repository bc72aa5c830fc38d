// Test helper: drives capture-probe.js children inside test namespaces. Test code only.
import { execFile, spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { promisify } from 'node:util';
import { imageDistFile } from '../../image/testing/installed.js';
import type { TestNetns } from './netns.js';

const run = promisify(execFile);
// Run from the installed image: a connecting probe runs as the app's or the proxy's user, who may not
// be able to read the checkout.
const probeScript = (): Promise<string> => imageDistFile('init/testing/capture-probe.js');

export interface ProbeAnswer {
  server?: string;
  listener?: number;
  orig?: { address: string; port: number; family: 4 | 6 } | { error: string };
  local?: string;
  localPort?: number;
  error?: string;
}

/** Starts a probe server in `ns` and resolves once every port listens. Kill it with stopProbe. */
export async function startProbe(ns: TestNetns, name: string, ports: number[]): Promise<ChildProcess> {
  const [cmd, ...args] = [...ns.prefix(), process.execPath, await probeScript(), 'serve', name, ports.join(',')];
  const child = spawn(cmd as string, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  return new Promise<ChildProcess>((resolve, reject) => {
    let out = '';
    let err = '';
    const guard = setTimeout(() => reject(new Error(`probe ${name} not ready: ${err}`)), 10_000);
    child.stderr?.on('data', (d: Buffer) => (err += d.toString()));
    child.stdout?.on('data', (d: Buffer) => {
      out += d.toString();
      if (out.includes('"ready"')) {
        clearTimeout(guard);
        resolve(child);
      }
    });
    child.on('exit', (code) => {
      clearTimeout(guard);
      reject(new Error(`probe ${name} exited (${code}): ${err}`));
    });
  });
}

export function stopProbe(child: ChildProcess | undefined): void {
  if (child && child.exitCode === null) child.kill('SIGKILL');
}

/** Connects from inside `ns` as uid/gid; resolves with what answered. */
export async function probeConnect(
  ns: TestNetns,
  opts: { host: string; port: number; uid?: number; gid?: number; localAddress?: string },
): Promise<ProbeAnswer> {
  const [cmd, ...args] = [
    ...ns.prefix(opts.uid ?? 0, opts.gid ?? opts.uid ?? 0),
    process.execPath,
    await probeScript(),
    'connect',
    opts.host,
    String(opts.port),
    ...(opts.localAddress ? [opts.localAddress] : []),
  ];
  const { stdout } = await run(cmd as string, args, { timeout: 15_000 });
  return JSON.parse(stdout.trim()) as ProbeAnswer;
}
