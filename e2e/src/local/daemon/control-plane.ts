// skein-cp in local mode as a child of the daemon: started with free ports, considered ready once it
// has written cp.json and answers /readyz.
import { existsSync } from 'node:fs';
import { readFile, rm } from 'node:fs/promises';
import { get } from 'node:http';
import { join } from 'node:path';
import type { LocalConfig } from '../config.js';
import type { ControlPlaneInfo } from '../admission/admit.js';
import { ControlPlaneError } from '../errors.js';
import type { StatePaths } from '../paths.js';
import { spawnLogged, terminate, type Spawned } from '../runtime/process.js';
import type { Journal } from '../state/journal.js';

/** What ConfigMap skein-ca-root holds (the injected sidecar mounts it; docs/identity.md). */
export interface CaRootData { 'root-cert.pem': string; 'control-plane-ca.pem': string }

export interface RunningControlPlane { info: ControlPlaneInfo; proc: Spawned; caRoot: CaRootData; stop: () => Promise<void> }

/** The mesh trust anchors and the CA of skein-cp's serving certificate, as skein-cp last wrote them. */
export async function readCaRoot(paths: StatePaths): Promise<CaRootData> {
  const [root, cp] = await Promise.all([readFile(paths.meshTrustBundle, 'utf8'), readFile(paths.webhookCa, 'utf8')]);
  return { 'root-cert.pem': root, 'control-plane-ca.pem': cp };
}

export async function startControlPlane(cfg: LocalConfig, paths: StatePaths, journal: Journal, timeoutMs = 60_000): Promise<RunningControlPlane> {
  const main = join(cfg.repoRoot, 'webhook', 'dist', 'main.js');
  if (!existsSync(main)) throw new ControlPlaneError(`${main} not found: build the control plane first (npx tsc -b webhook)`);
  await rm(paths.cpJson, { force: true });
  const argv = [process.execPath, main, '--mode', 'local', '--state-dir', paths.cpDir, '--webhook-port', '0', '--grpc-port', '0', '--health-port', '0',
    '--local-store', paths.storeDir, '--token-public-key', paths.saPub];
  const proc = spawnLogged(argv, { ...process.env } as Record<string, string>, paths.cpLog, journal, 'skein-cp');
  let exited = false;
  void proc.exited.then(() => { exited = true; });
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (exited) throw new ControlPlaneError(`skein-cp exited during start-up: see ${paths.cpLog}`);
    const info = await readFile(paths.cpJson, 'utf8').then((t) => JSON.parse(t) as ControlPlaneInfo).catch(() => undefined);
    if (info && existsSync(paths.webhookCa) && existsSync(paths.meshTrustBundle) && (await readyz(info))) {
      return { info, proc, caRoot: await readCaRoot(paths), stop: () => terminate(proc.pid, proc.exited, 10_000) };
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  await terminate(proc.pid, proc.exited, 2_000);
  throw new ControlPlaneError(`skein-cp did not become ready within ${timeoutMs / 1000}s (cp.json + /readyz): see ${paths.cpLog}`);
}

function readyz(info: ControlPlaneInfo): Promise<boolean> {
  const host = info.bindAddress && info.bindAddress !== '0.0.0.0' ? info.bindAddress : '127.0.0.1';
  return new Promise((r) => {
    const req = get({ host, port: info.healthPort, path: '/readyz', timeout: 2000 }, (res) => { res.resume(); r(res.statusCode === 200); });
    req.on('timeout', () => req.destroy());
    req.on('error', () => r(false));
  });
}
