// `up` and `down`: start the detached node daemon and wait for it; stop it and remove everything.
import { spawn } from 'node:child_process';
import { existsSync, openSync, closeSync, readFileSync } from 'node:fs';
import { prepareStateDir } from '../state/layout.js';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { podRanges, rangesText, serviceRanges, type LocalConfig } from '../config.js';
import { call, health } from '../client/api-client.js';
import { gateway } from '../network/cidr.js';
import { statePaths } from '../paths.js';
import { recordInstance } from '../state/instance.js';
import type { ShutdownResponse } from '../daemon/api-server.js';
import { addCounts, describeCounts, NOTHING_REMOVED, type RemovedCounts } from '../state/inventory.js';
import { teardown } from '../state/teardown.js';

const CLI = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'cli.js');

export function globalFlags(cfg: LocalConfig): string[] {
  return ['--state-dir', cfg.stateDir, '--bridge', cfg.bridge, '--pod-cidr', rangesText(podRanges(cfg)), '--service-cidr', rangesText(serviceRanges(cfg))];
}

export async function up(cfg: LocalConfig, timeoutMs = 120_000): Promise<number> {
  const paths = statePaths(cfg);
  const h = await health(paths.apiSocket);
  if (h?.ready) {
    console.log(`skein-local is already up (state dir ${cfg.stateDir}, bridge ${cfg.bridge})`);
    return 0;
  }
  if (h) {
    console.error(`skein-local: a daemon (pid ${h.pid}) is running but not ready${h.error ? `: ${h.error}` : ''}; run \`skein-local down\` first`);
    return 1;
  }
  if (existsSync(paths.journal)) {
    console.log('skein-local: cleaning up after a previous run that did not shut down');
    await teardown(cfg, paths);
  }
  prepareStateDir(paths);
  recordInstance(cfg, paths.instance);
  const fd = openSync(paths.daemonLog, 'a');
  const child = spawn(process.execPath, [CLI, 'daemon', ...globalFlags(cfg)], { detached: true, stdio: ['ignore', fd, fd], env: process.env });
  closeSync(fd);
  child.unref();
  let exited = false;
  child.once('exit', () => { exited = true; });
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const s = await health(paths.apiSocket);
    if (s?.ready) {
      console.log(`skein-local is up: bridge ${cfg.bridge} (${gateway(cfg.podCidr)}), pods ${rangesText(podRanges(cfg))}, services ${rangesText(serviceRanges(cfg))}, state ${cfg.stateDir}`);
      return 0;
    }
    if (s?.error || exited) {
      await new Promise((r) => setTimeout(r, 300));
      console.error(`skein-local up failed: ${s?.error ?? 'the daemon exited'} (everything it set up is removed again; fix the cause and rerun \`skein-local up\`)\n--- last lines of ${paths.daemonLog}:\n${tail(paths.daemonLog, 15)}`);
      await teardown(cfg, paths);
      return 1;
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  console.error(`skein-local up: the node did not become ready within ${timeoutMs / 1000}s: see ${paths.daemonLog}, then run \`skein-local down\` to remove what it set up`);
  return 1;
}

/**
 * Asks a live daemon to stop its pods and skein-cp (it answers with what that removed), then sweeps
 * the rest itself; the summary is the total of both.
 */
export async function down(cfg: LocalConfig): Promise<number> {
  const paths = statePaths(cfg);
  const h = await health(paths.apiSocket);
  let total: RemovedCounts = NOTHING_REMOVED;
  if (h) {
    // Pods get up to 30s of grace each (in parallel), sidecars after them: wait long enough.
    const answer = await call<ShutdownResponse>(paths.apiSocket, 'POST', '/shutdown', {}, 180_000).catch((err: Error) => {
      console.error(`skein-local: the daemon (pid ${h.pid}) did not stop its pods cleanly (${err.message}): killing what is left`);
      return undefined;
    });
    if (answer) total = addCounts(total, answer.removed);
    const deadline = Date.now() + 60_000;
    while (Date.now() < deadline && alive(h.pid)) await new Promise((r) => setTimeout(r, 100));
    // The daemon itself, when it ended on our request (else teardown kills and counts it).
    if (!alive(h.pid)) total = addCounts(total, { processes: 1 });
  }
  total = addCounts(total, await teardown(cfg, paths));
  console.log(`skein-local is down: ${describeCounts(total)}`);
  return 0;
}

function alive(pid: number): boolean {
  try { process.kill(pid, 0); return true; } catch { return false; }
}

function tail(file: string, n: number): string {
  try { return readFileSync(file, 'utf8').trimEnd().split('\n').slice(-n).join('\n'); } catch { return '(no log)'; }
}
