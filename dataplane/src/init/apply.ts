// Applies the rendered rules with one `iptables-restore --noflush` per family. Idempotent: declaring our
// chains flushes them, and the jumps from PREROUTING/OUTPUT are added only when iptables-save does not
// already show them (duplicates left by an older run are deleted), so a re-run leaves one copy. Other
// tables and chains (a CNI's, the kubelet's) are never touched.
import type { Logger } from 'pino';
import type { IpFamily } from './cidr.js';
import type { InitConfig } from './config.js';
import { IptablesPermissionError, IptablesRestoreError, Ipv6UnavailableError } from './errors.js';
import { buildTables, renderTable } from './rules.js';
import { INBOUND_SOURCE } from '../contract.js';
import type { TableRules } from './rules.js';
import type { CommandResult, CommandRunner } from './runner.js';

/** Table name → rule lines (`-A …`) as iptables-save prints them. */
export type SavedRules = Map<string, string[]>;

export function parseIptablesSave(text: string): SavedRules {
  const tables: SavedRules = new Map();
  let current: string[] | undefined;
  for (const line of text.split('\n')) {
    if (line.startsWith('*')) {
      current = [];
      tables.set(line.slice(1).trim(), current);
    } else if (line.startsWith('-A ') && current) {
      current.push(line.trim());
    }
  }
  return tables;
}

/** The restore input that brings `saved` to exactly one copy of our rules. Pure. */
export function planRestore(tables: TableRules[], saved: SavedRules): string {
  const lines = tables.flatMap((table) => {
    const existing = saved.get(table.table) ?? [];
    const missing = table.jumps.filter((j) => !existing.includes(j));
    const extraCopies = table.jumps.flatMap((j) => {
      const n = existing.filter((e) => e === j).length;
      return Array.from({ length: Math.max(0, n - 1) }, () => j.replace(/^-A /, '-D '));
    });
    return renderTable(table, missing, extraCopies);
  });
  return lines.join('\n') + '\n';
}

const TOOLS: Record<IpFamily, { save: string; restore: string }> = {
  4: { save: 'iptables-save', restore: 'iptables-restore' },
  6: { save: 'ip6tables-save', restore: 'ip6tables-restore' },
};

// nft-based tools say "Permission denied (you must be root)"; both variants exit 4 on resource problems,
// which includes legacy iptables waiting in vain for the xtables lock (that one is not about permission).
function isPermissionProblem(result: CommandResult): boolean {
  if (/Permission denied|must be root|Operation not permitted/i.test(result.stderr)) return true;
  return result.code === 4 && !/xtables lock/i.test(result.stderr);
}

function check(command: string, result: CommandResult, family: IpFamily): CommandResult {
  if (result.code === 0) return result;
  if (isPermissionProblem(result)) throw new IptablesPermissionError(command, result.stderr);
  if (family === 6 && /table .*does not exist|not supported|Address family not supported/i.test(result.stderr)) {
    throw new Ipv6UnavailableError(`${command}: ${result.stderr.trim()}`);
  }
  throw new IptablesRestoreError(command, result.code, result.stderr);
}

export async function applyRules(
  config: InitConfig,
  family: IpFamily,
  runner: CommandRunner,
  logger: Logger,
): Promise<void> {
  const tools = TOOLS[family];
  const saved = check(tools.save, await runner.run(tools.save, []), family);
  const payload = planRestore(buildTables(config, family), parseIptablesSave(saved.stdout));
  check(tools.restore, await runner.run(tools.restore, ['--noflush', '--wait=5'], payload), family);
  logger.info({ family, tool: tools.restore }, 'capture rules applied');
  if (family === 6) await addInboundPassthroughAddress(runner, logger);
}

// Linux puts all of 127.0.0.0/8 on lo, but only ::1 of IPv6: the inbound proxy needs ::6 to bind as the
// source of what it forwards to the app (the RETURN rule for ::6 keeps that out of capture). Not fatal:
// without it only IPv6 inbound forwarding is affected, and the proxy reports that itself.
async function addInboundPassthroughAddress(runner: CommandRunner, logger: Logger): Promise<void> {
  try {
    const result = await runner.run('ip', ['-6', 'addr', 'replace', `${INBOUND_SOURCE[6]}/128`, 'dev', 'lo']);
    if (result.code !== 0) logger.warn({ stderr: result.stderr.trim() }, `could not add ${INBOUND_SOURCE[6]}/128 to lo`);
  } catch (err) {
    logger.warn({ err }, `could not add ${INBOUND_SOURCE[6]}/128 to lo (is iproute2 installed?)`);
  }
}
