#!/usr/bin/env node
// skein-local: a one-host Kubernetes node (kubelet + kube-proxy + API server) for Skein's demo and e2e
// suite. Parses the command line and dispatches; the work lives in ./local/**.
import { parseArgs } from 'node:util';
import { parseConfig } from './local/config.js';
import { ConfigError, LocalError, UsageError } from './local/errors.js';
import { exec } from './local/commands/exec.js';
import { down, up } from './local/commands/lifecycle.js';
import { applyOrDelete, get, wait } from './local/commands/objects.js';
import { stdioFlushed, watchStdout } from './local/commands/output.js';
import { admin, logs } from './local/commands/pod-access.js';
import { runDaemon } from './local/daemon/main.js';
import { statePaths } from './local/paths.js';
import { checkInstance } from './local/state/instance.js';

const HELP = `skein-local — run Kubernetes pod specs on this host, through Skein's real admission webhook

Usage: skein-local [global options] COMMAND [options]

Commands:
  up                          start the node daemon and skein-cp --mode local; returns once both are ready
  apply -f PATH               create/update the objects of a YAML file or directory (multi-document)
  delete -f PATH | KIND NAME  delete them (pods are stopped gracefully first)
  get KIND [NAME] [-o json|wide] [-l k=v] [-A]
                              list objects (pods, services, deployments, namespaces, serviceaccounts,
                              configmaps, secrets, meshes, trafficpermissions)
  wait pod NAME|-l k=v --for ready|completed [--timeout 60s]
                              exit 0 once the condition holds (also: wait deployment NAME --for ready)
  exec POD [-c CONTAINER] [-i] -- CMD [ARGS…]
                              run CMD in the container (default: the pod's kubectl.kubernetes.io/default-container,
                              else its first app container): its namespaces, volumes, user, groups, working
                              dir and environment; -i passes stdin (without it CMD reads nothing); the exit
                              code is CMD's (126 not executable, 127 not found)
  logs POD [-c CONTAINER]     the container's stdout+stderr so far (same default container as exec)
  admin POD PATH              HTTP GET http://127.0.0.1:15000PATH from inside the pod (sidecar admin)
  down                        stop every process and remove every namespace, link, route and rule
                              this instance made (also after a crash)

Options:
  -n, --namespace NS          namespace (default "default")
  -i, --stdin                 exec: pass stdin to CMD
  -t, --tty                   exec: accepted for kubectl compatibility; no terminal is allocated (CMD
                              gets your terminal as it is, with -i)
  -h, --help                  this help

Global options (flag or environment):
  --state-dir DIR         SKEIN_LOCAL_STATE_DIR     default /run/skein-local
  --bridge NAME           SKEIN_LOCAL_BRIDGE        default skein0
  --pod-cidr V4[,V6]      SKEIN_LOCAL_POD_CIDR      default 10.244.0.0/16,fd00:10:244::/64
  --service-cidr V4[,V6]  SKEIN_LOCAL_SERVICE_CIDR  default 10.96.0.0/16,fd00:10:96::/108
                          (an IPv6 range in both: dual stack; IPv4 only in both: IPv4 only)

Exit status: 0 success, 1 the command failed (the message says which object and what to do),
2 usage error (bad command, flag or argument); exec exits with CMD's status.

Needs root (network namespaces, iptables). See docs/skein-local.md.
`;

async function main(argv: string[]): Promise<number> {
  const dash = argv.indexOf('--');
  const own = dash >= 0 ? argv.slice(0, dash) : argv;
  const rest = dash >= 0 ? argv.slice(dash + 1) : [];
  const { values: v, positionals } = parseArgs({
    args: own,
    allowPositionals: true,
    options: {
      'state-dir': { type: 'string' }, bridge: { type: 'string' }, 'pod-cidr': { type: 'string' }, 'service-cidr': { type: 'string' },
      namespace: { type: 'string', short: 'n' }, filename: { type: 'string', short: 'f' }, output: { type: 'string', short: 'o' },
      container: { type: 'string', short: 'c' }, selector: { type: 'string', short: 'l' }, for: { type: 'string' },
      timeout: { type: 'string' }, 'all-namespaces': { type: 'boolean', short: 'A' }, help: { type: 'boolean', short: 'h' },
      stdin: { type: 'boolean', short: 'i' }, tty: { type: 'boolean', short: 't' },
    },
  });
  const [cmd, ...args] = positionals;
  if (v.help || !cmd || cmd === 'help') {
    process.stdout.write(HELP);
    return cmd || v.help ? 0 : 2;
  }
  let cfg: ReturnType<typeof parseConfig>;
  try {
    cfg = parseConfig({ 'state-dir': v['state-dir'], bridge: v.bridge, 'pod-cidr': v['pod-cidr'], 'service-cidr': v['service-cidr'] }, process.env);
  } catch (err) {
    // A flag or environment value that cannot be used: a usage error (exit 2), before anything ran.
    throw err instanceof ConfigError ? new UsageError(err.message) : err;
  }
  // Before anything touches the host: the state dir must belong to the bridge and ranges given.
  checkInstance(cfg, statePaths(cfg).instance);
  const ns = v.namespace;
  switch (cmd) {
    case 'up': return up(cfg);
    case 'down': return down(cfg);
    case 'daemon': return runDaemon(cfg);
    case 'apply': case 'delete': return applyOrDelete(cfg, cmd, v.filename, ns, args);
    case 'get': return get(cfg, args[0], args[1], { namespace: ns, output: v.output, selector: v.selector, all: v['all-namespaces'] });
    case 'wait': return wait(cfg, args[0], args[1], { namespace: ns, selector: v.selector, for: v.for, timeout: v.timeout });
    case 'exec': return exec(cfg, args[0], rest, { namespace: ns, container: v.container, stdin: v.stdin, tty: v.tty });
    case 'logs': return logs(cfg, args[0], { namespace: ns, container: v.container });
    case 'admin': return admin(cfg, args[0], args[1], { namespace: ns });
    default:
      throw new UsageError(`unknown command "${cmd}": the commands are up, apply, delete, get, wait, exec, logs, admin, down (see skein-local --help)`);
  }
}

/** The message on stderr and the exit status: 2 for usage errors, 1 for every other failure. */
function report(err: unknown): number {
  if (err instanceof LocalError) {
    console.error(`skein-local: ${err.message}`);
    return err.code === 'E_USAGE' ? 2 : 1;
  }
  if (err instanceof Error && (err as NodeJS.ErrnoException).code?.startsWith('ERR_PARSE_ARGS')) {
    console.error(`skein-local: ${err.message} (see skein-local --help)`);
    return 2;
  }
  console.error(`skein-local: ${err instanceof Error ? err.stack : String(err)}`);
  return 1;
}

// Never process.exit() straight after writing: output to a pipe still queued would be cut.
watchStdout();
void main(process.argv.slice(2)).then((code) => code, report).then(async (code) => {
  process.exitCode = code;
  await stdioFlushed();
  process.exit(code);
});
