// `up` and `down`: start the detached node daemon and wait for it; stop it and remove everything.
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, openSync, closeSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { LocalConfig } from '../config.js';
import { call, health } from '../client/api-client.js';
import { gateway } from '../network/cidr.js';
import { statePaths } from '../paths.js';
import { recordInstance } from '../state/instance.js';
import { teardown } from '../state/teardown.js';

const CLI = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'cli.js');

export function globalFlags(cfg: LocalConfig): string[] {
  return ['--state-dir', cfg.stateDir, '--bridge', cfg.bridge, '--pod-cidr', cfg.podCidr.text, '--service-cidr', cfg.serviceCidr.text];
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
  mkdirSync(paths.root, { recursive: true, mode: 0o700 });
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
      console.log(`skein-local is up: bridge ${cfg.bridge} (${gateway(cfg.podCidr)}), pods ${cfg.podCidr.text}, services ${cfg.serviceCidr.text}, state ${cfg.stateDir}`);
      return 0;
    }
    if (s?.error || exited) {
      await new Promise((r) => setTimeout(r, 300));
      console.error(`skein-local up failed: ${s?.error ?? 'the daemon exited'}\n--- last lines of ${paths.daemonLog}:\n${tail(paths.daemonLog, 15)}`);
      await teardown(cfg, paths);
      return 1;
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  console.error(`skein-local up: the node did not become ready within ${timeoutMs / 1000}s; see ${paths.daemonLog}`);
  return 1;
}

export async function down(cfg: LocalConfig): Promise<number> {
  const paths = statePaths(cfg);
  const h = await health(paths.apiSocket);
  if (h) {
    await call(paths.apiSocket, 'POST', '/shutdown', {}, 10_000).catch(() => undefined);
    const deadline = Date.now() + 60_000;
    while (Date.now() < deadline && alive(h.pid)) await new Promise((r) => setTimeout(r, 100));
  }
  const r = await teardown(cfg, paths);
  console.log(`skein-local is down (${r.processes} processes stopped, ${r.netns} network namespaces, ${r.links} links, ${r.chains} chains, ${r.routes} routes removed)`);
  return 0;
}

function alive(pid: number): boolean {
  try { process.kill(pid, 0); return true; } catch { return false; }
}

function tail(file: string, n: number): string {
  try { return readFileSync(file, 'utf8').trimEnd().split('\n').slice(-n).join('\n'); } catch { return '(no log)'; }
}
