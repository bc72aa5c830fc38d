// `npm run bench` entry point: starts a private skein-local instance, runs the direct, skein and
// haproxy scenarios one after another on the same machine with the same client and server, prints
// a table and writes bench-results/bench.json. Always brings the instance down, even on failure.
import { execFileSync } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { makeHaproxyCerts } from './certs.js';
import { parseConfig, USAGE, wantsHelp, type BenchConfig, type ScenarioName } from './config.js';
import { SidecarProfiler } from './cpu-prof.js';
import type { ProfileSummary } from './profile.js';
import { comparisons, headline, renderRun, type Headline } from './report.js';
import { runScenario, type ScenarioResult, type ScenarioSpec } from './scenario.js';
import { SkeinLocal } from './skein-local.js';

function specs(certDir: string, haproxyTls: boolean): Record<ScenarioName, ScenarioSpec> {
  const direct = (ip: string) => ({ httpUrl: `http://${ip}:8080/`, bulkHost: ip, bulkPort: 9000 });
  return {
    direct: { name: 'direct', ns: 'bench-plain', serverPod: 'server', clientPod: 'client',
      serverTemplate: 'server.yaml', clientTemplate: 'client.yaml', vars: {}, target: direct },
    skein: { name: 'skein', ns: 'bench-mesh', serverPod: 'server', clientPod: 'client',
      serverTemplate: 'server.yaml', clientTemplate: 'client.yaml', vars: {}, target: direct },
    haproxy: { name: 'haproxy', ns: 'bench-plain', serverPod: 'hap-server', clientPod: 'hap-client',
      serverTemplate: 'haproxy-server.yaml', clientTemplate: 'haproxy-client.yaml', vars: { CERT_DIR: certDir, HAPROXY_CFG_SUFFIX: haproxyTls ? '' : '-plain' },
      target: () => ({ httpUrl: 'http://127.0.0.1:18080/', bulkHost: '127.0.0.1', bulkPort: 19000 }) },
  };
}

function git(repoRoot: string, args: string[]): string {
  try {
    return execFileSync('git', args, { cwd: repoRoot, encoding: 'utf8' }).trim();
  } catch {
    return 'unknown';
  }
}

function machine(): { cpuModel: string; cpus: number } & Record<string, unknown> {
  const cpus = os.cpus();
  return {
    hostname: os.hostname(), kernel: os.release(), arch: os.arch(), node: process.version,
    cpuModel: cpus[0]?.model ?? 'unknown', cpus: cpus.length, memTotalMB: Math.round(os.totalmem() / 2 ** 20),
  };
}

async function main(): Promise<number> {
  const argv = process.argv.slice(2);
  if (wantsHelp(argv)) {
    console.log(USAGE);
    return 0;
  }
  const config: BenchConfig = parseConfig(argv, process.env);
  const sl = new SkeinLocal(config);
  const runDir = await mkdtemp(path.join(os.tmpdir(), 'skein-bench-'));
  // Containers read the rendered manifests' paths and HAProxy its certificates from here, as root.
  const started = new Date();
  const loadavgAtStart = os.loadavg();
  const results: Partial<Record<ScenarioName, ScenarioResult>> = {};
  const notes: string[] = [];
  let profile: ProfileSummary | undefined;
  let upMs: number | undefined;
  let cliRoundTripMs: number | undefined;
  const log = (m: string): void => console.error(`bench: ${m}`);
  // Ctrl-C / SIGTERM: kill what runs in the pods so the current phase fails fast, run no further
  // scenario, and let the finally below bring the instance down. A second signal exits at once
  // (bench.sh's trap then runs `down`).
  let interrupted = false;
  const onSignal = (signal: string): void => {
    interrupted = true;
    notes.push(`interrupted by ${signal}: partial results`);
    log(`${signal}: stopping the load; cleaning up (send it again to exit at once)`);
    sl.killAll();
  };
  process.once('SIGINT', () => onSignal('SIGINT'));
  process.once('SIGTERM', () => onSignal('SIGTERM'));
  log(`cores: load generator on CPU ${config.clientCpu}, server app + proxies on CPU ${config.serverCpu}; run dir ${runDir}`);
  try {
    await sl.down(); // a crashed earlier run may have left this instance behind
    const t0 = Date.now();
    log(`skein-local up (state dir ${config.skeinLocal.stateDir}, bridge ${config.skeinLocal.bridge})`);
    await sl.up();
    upMs = Date.now() - t0;
    await sl.apply(path.join(config.repoRoot, 'e2e/bench/manifests/namespaces.yaml'));
    // apply -> Ready is timed around two CLI runs (apply, wait); their own cost, for reference.
    const trips: number[] = [];
    for (let i = 0; i < 3; i++) {
      const t = Date.now();
      await sl.ok(['get', 'namespaces']);
      trips.push(Date.now() - t);
    }
    cliRoundTripMs = trips.sort((a, b) => a - b)[1];
    const certDir = path.join(runDir, 'certs');
    await mkdir(certDir);
    await makeHaproxyCerts(certDir);
    const all = specs(certDir, config.haproxyTls);
    for (const name of config.scenarios) {
      if (interrupted) break;
      log(`scenario ${name}`);
      const profiler = name === 'skein' && config.cpuProf ? new SidecarProfiler(sl, config, path.join(runDir, 'prof')) : undefined;
      results[name] = await runScenario(sl, config, all[name], runDir, {
        beforeLoad: profiler ? (procs) => profiler.start(procs) : undefined,
        afterLoad: profiler ? () => profiler.stop() : undefined,
      });
      if (profiler) {
        profile = await profiler.summary(path.join(config.outDir, 'profiles'));
        notes.push(...profiler.notes);
      }
      const r = results[name] as ScenarioResult;
      log(r.ok ? `scenario ${name} done` : `scenario ${name} FAILED: ${r.error}`);
    }
  } catch (err) {
    notes.push(`aborted: ${err instanceof Error ? err.message : String(err)}`);
    log(`aborted: ${err instanceof Error ? err.message : String(err)}`);
  } finally {
    log('skein-local down');
    const down = await sl.down();
    if (down.code !== 0) notes.push(`skein-local down exited ${down.code}: ${down.stderr.trim().slice(-500)}`);
    await rm(runDir, { recursive: true, force: true });
    // Keep skein-local's logs (state dir) when something failed; otherwise leave nothing behind.
    const failed = down.code !== 0 || config.scenarios.some((s) => !results[s]?.ok);
    if (failed) notes.push(`skein-local logs kept in ${config.skeinLocal.stateDir} (daemon.log, cp.log, logs/)`);
    else await rm(config.skeinLocal.stateDir, { recursive: true, force: true });
  }

  const heads: Partial<Record<ScenarioName, Headline>> = {};
  for (const [name, r] of Object.entries(results)) heads[name as ScenarioName] = headline(r);
  const cmp = comparisons(heads);
  if (config.cpuProf) notes.push('--cpu-prof: the skein numbers of this run include the profiler\'s overhead.');
  const out = {
    schema: 1,
    date: started.toISOString(),
    durationS: Math.round((Date.now() - started.getTime()) / 1000),
    git: { commit: git(config.repoRoot, ['rev-parse', 'HEAD']), dirtyFiles: git(config.repoRoot, ['status', '--porcelain']).split('\n').filter(Boolean).length },
    machine: { ...machine(), loadavgAtStart, loadavgAtEnd: os.loadavg() },
    config: { ...config, repoRoot: undefined, outDir: undefined, skeinLocalUpMs: upMs, cliRoundTripMs,
      pinning: `load generator taskset -c ${config.clientCpu}; server app, sidecars and haproxy taskset -a -p -c ${config.serverCpu}` },
    headline: heads,
    comparisons: cmp,
    scenarios: results,
    cpuProfile: profile,
    notes,
  };
  await mkdir(config.outDir, { recursive: true });
  const file = path.join(config.outDir, 'bench.json');
  await writeFile(file, `${JSON.stringify(out, null, 2)}\n`);

  const text = renderRun({
    date: out.date, commit: out.git.commit, dirtyFiles: out.git.dirtyFiles, cpus: out.machine.cpus, cpuModel: out.machine.cpuModel,
    loadavgAtStart, haproxyTls: config.haproxyTls, cliRoundTripMs, heads, cmp, results: Object.values(results), profile, notes,
  });
  await writeFile(path.join(config.outDir, 'bench.txt'), `${text}\n`);
  console.log(`\n${text}`);
  console.log(`\nwrote ${path.relative(process.cwd(), file) || file} and bench.txt`);
  if (interrupted) return 130;
  return Object.values(results).every((r) => r.ok) && config.scenarios.every((s) => results[s]) ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(`bench: ${err instanceof Error ? err.stack ?? err.message : String(err)}`);
    process.exit(2);
  },
);
