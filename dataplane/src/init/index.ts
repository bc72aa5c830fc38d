// `skein-dp init`: writes the pod's transparent-capture rules (the init container). Role: parse the
// flags, render, apply, turn failures into an exit code. Imports only node: modules, pino types, the
// modules of this folder, ../contract, ../errors and ../config/values (pure); main.ts dispatches `init` here.
import type { Logger } from 'pino';
import { applyRules } from './apply.js';
import type { IpFamily } from './cidr.js';
import { INIT_USAGE, initArgvToRecord, parseInitFlags } from './config.js';
import type { InitConfig } from './config.js';
import { InitError, InitFlagError } from './errors.js';
import { detectIpv6 } from './ipv6.js';
import { renderRules } from './rules.js';
import { spawnRunner } from './runner.js';
import type { CommandRunner } from './runner.js';

export { parseInitFlags, initArgvToRecord, INIT_USAGE } from './config.js';
export type { InitConfig, Ipv6Mode } from './config.js';
export { renderRules } from './rules.js';
export { applyRules } from './apply.js';
export { spawnRunner } from './runner.js';
export type { CommandRunner } from './runner.js';
export * from './errors.js';

export interface RunInitDeps {
  /** Where the iptables tools run (tests: inside a network namespace they made). */
  runner?: CommandRunner;
  /** Where --dry-run prints the rules. */
  write?: (text: string) => void;
  /** Does the namespace have a global IPv6 address (--ipv6 auto)? */
  detectIpv6?: () => Promise<boolean>;
}

export const INIT_EXIT = { ok: 0, failed: 1, badFlags: 2 } as const;

/** Runs `skein-dp init <argv>`; resolves to the process exit code. Never throws for expected failures. */
export async function runInit(argv: string[], logger: Logger, deps: RunInitDeps = {}): Promise<number> {
  const log = logger.child({ component: 'init' });
  if (argv.includes('--help') || argv.includes('-h')) {
    (deps.write ?? ((text: string) => void process.stdout.write(text)))(`${INIT_USAGE}\n`);
    return INIT_EXIT.ok;
  }
  let config: InitConfig;
  try {
    config = parseInitFlags(initArgvToRecord(argv));
  } catch (err) {
    if (!(err instanceof InitFlagError)) throw err;
    log.error({ code: err.code, flag: err.flag }, err.message);
    return INIT_EXIT.badFlags;
  }
  try {
    const families = await familiesFor(config, deps.detectIpv6 ?? (() => detectIpv6()));
    if (config.dryRun) {
      const write = deps.write ?? ((text: string) => void process.stdout.write(text));
      write(families.map((f) => renderRules(config, f)).join('\n'));
      return INIT_EXIT.ok;
    }
    const runner = deps.runner ?? spawnRunner();
    for (const family of families) await applyRules(config, family, runner, log);
    log.info({ families, outboundPort: config.outboundPort, inboundPort: config.inboundPort }, 'capture ready');
    return INIT_EXIT.ok;
  } catch (err) {
    if (!(err instanceof InitError)) throw err;
    log.error({ code: err.code }, err.message);
    return INIT_EXIT.failed;
  }
}

async function familiesFor(config: InitConfig, detect: () => Promise<boolean>): Promise<IpFamily[]> {
  if (config.ipv6 === 'on') return [4, 6];
  if (config.ipv6 === 'off') return [4];
  return (await detect()) ? [4, 6] : [4];
}
