// The one pino root of a skein-dp process, and the runtime level switch behind admin `/logging`.
// May import pino and node:fs only. pino children copy their level when created, so the long-lived component
// loggers are registered here and follow level changes; per-connection children are short-lived
// and pick up the level current when they are made.
//
// Lines leave in batches, asynchronously (stdout.ts: a write per log line was a tenth of the HTTP hot
// path). What is still queued when the process exits is written synchronously on 'exit'.
import { pino, type Logger, type DestinationStream, type LevelWithSilent } from 'pino';
import { BatchedStdout } from './stdout.js';

export type { Logger };

export const LOG_LEVELS: readonly LevelWithSilent[] = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

export function isLogLevel(value: string): value is LevelWithSilent {
  return (LOG_LEVELS as readonly string[]).includes(value);
}

export interface LogControl {
  readonly root: Logger;
  /** A long-lived child (`{component}` …) that follows later level changes. */
  component(name: string): Logger;
  level(): string;
  setLevel(level: LevelWithSilent): void;
}

/** Creates the process root logger; tests pass a destination stream to read the lines back. */
export function createLogControl(level: LevelWithSilent, destination?: DestinationStream): LogControl {
  const root = pino({
    level,
    base: { pid: process.pid },
    // Never log secrets: anything that could hold a token or key is censored wherever it appears.
    redact: { paths: ['token', '*.token', 'key', '*.key', 'authorization', '*.authorization',
      'headers.authorization', 'headers.cookie'], censor: '[redacted]' },
  }, destination ?? stdoutDestination());
  const children: Logger[] = [];
  return {
    root,
    component(name) {
      const child = root.child({ component: name });
      children.push(child);
      return child;
    },
    level: () => root.level,
    setLevel(next) {
      root.level = next;
      for (const child of children) child.level = next;
    },
  };
}

function stdoutDestination(): DestinationStream {
  const destination = new BatchedStdout(1);
  process.once('exit', () => destination.flushSync());
  return destination;
}

/** The fields of one access-log line, all at hand when the response closes. */
export interface AccessFields {
  method: string | undefined;
  authority: string | undefined;
  path: string;
  status: number;
  bytes: number;
  durationMs: number;
  requestId: string;
  error: string | undefined;
  /** The policy that allowed or denied the request (inbound in a mesh); absent elsewhere. */
  policy?: string | undefined;
}

const { lsCacheSym, timeSym, chindingsSym, streamSym } = pino.symbols;
type LoggerInternals = Logger & Record<symbol, unknown>;

/**
 * Writes one `request` line through `log` (its level, bindings and destination), the same JSON pino
 * would write, built by concatenation: pino's generic path (object walk, redaction of every line) was
 * the bigger part of a request's logging cost. The fields are ours: nothing in them is redacted.
 */
export function writeAccessLine(log: Logger, f: AccessFields, extra = ''): void {
  if (!log.isLevelEnabled('info')) return;
  const l = log as LoggerInternals;
  const line = `${(l[lsCacheSym] as Record<number, string>)[30]}${(l[timeSym] as () => string)()}${l[chindingsSym] as string}` +
    `,"method":${JSON.stringify(f.method ?? '')}${f.authority === undefined ? '' : `,"authority":${JSON.stringify(f.authority)}`}` +
    `,"path":${JSON.stringify(f.path)},"status":${f.status},"bytes":${f.bytes},"durationMs":${f.durationMs}` +
    `,"requestId":${JSON.stringify(f.requestId)}${f.error === undefined ? '' : `,"error":${JSON.stringify(f.error)}`}` +
    `${f.policy === undefined ? '' : `,"policy":${JSON.stringify(f.policy)}`}` +
    `${extra},"msg":"request"}\n`;
  (l[streamSym] as DestinationStream).write(line);
}
