#!/usr/bin/env node
// skein-dp entry point: `init` (iptables, owned by the init module), `run` (the sidecar), `wait`
// (postStart hook). The only place that exits the process. Each command imports only what it runs:
// `init` lazily so `run` and `wait` work even when the init module (or its native pieces) cannot load,
// and `wait` without the proxy (pino, prom-client, undici…), because the kubelet holds the app's
// containers until it returns: loading the whole proxy cost every pod ~90 ms there.
import { parseRunConfig, parseWaitConfig, RUN_USAGE, WAIT_USAGE } from './config/index.js';
import { ConfigError } from './errors.js';

const USAGE = `usage: skein-dp <command> [flags]
  init    write the pod's iptables rules (init container; skein-dp init --help)
  run     the sidecar proxy
  wait    wait until the local proxy is ready (postStart hook)

${RUN_USAGE}

${WAIT_USAGE}`;

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  switch (command) {
    case 'run': return run(rest);
    case 'wait': return wait(rest);
    case 'init': return init(rest);
    case '--help': case '-h': case 'help':
      console.log(USAGE);
      return 0;
    default:
      console.error(command === undefined ? USAGE : `skein-dp: unknown command "${command}"\n\n${USAGE}`);
      return 2;
  }
}

async function run(argv: string[]): Promise<number> {
  if (argv.includes('--help')) { console.log(RUN_USAGE); return 0; }
  let config;
  try {
    config = parseRunConfig(argv, process.env);
  } catch (err) {
    if (err instanceof ConfigError) { console.error(`skein-dp run: ${err.message}`); return 2; }
    throw err;
  }
  const [{ createLogControl }, { startProxy }] = await Promise.all([import('./log/index.js'), import('./lifecycle/run.js')]);
  const logs = createLogControl(config.logLevel);
  const log = logs.component('main');
  const proxy = await startProxy(config, { logs });
  let signals = 0;
  const onSignal = (signal: NodeJS.Signals): void => {
    if (++signals > 1) {
      log.warn({ signal }, 'second signal: exiting now');
      process.exit(1);
    }
    log.info({ signal, drainTimeoutMs: config.drainTimeoutMs }, 'shutting down');
    void proxy.shutdown();
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
  await proxy.stopped;
  return 0;
}

async function wait(argv: string[]): Promise<number> {
  if (argv.includes('--help')) { console.log(WAIT_USAGE); return 0; }
  let config;
  try {
    config = parseWaitConfig(argv);
  } catch (err) {
    if (err instanceof ConfigError) { console.error(`skein-dp wait: ${err.message}`); return 2; }
    throw err;
  }
  const { waitUntilReady } = await import('./lifecycle/wait.js');
  const outcome = await waitUntilReady(config);
  if (outcome.ready) return 0;
  console.error(`skein-dp wait: the proxy was not ready on 127.0.0.1:${config.adminPort} after ${config.timeoutMs} ms ` +
    `(last: ${outcome.lastError})`);
  return 1;
}

async function init(argv: string[]): Promise<number> {
  const { createLogControl } = await import('./log/index.js');
  const logs = createLogControl('info');
  // Imported here, not at the top: a failure to load init (another part) must not break `run`.
  const { runInit } = await import('./init/index.js');
  return runInit(argv, logs.root);
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(`skein-dp: ${(err as Error)?.stack ?? String(err)}`);
    process.exit(1);
  },
);
