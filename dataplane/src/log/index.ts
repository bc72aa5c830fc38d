// The one pino root of a skein-dp process, and the runtime level switch behind admin `/logging`.
// May import pino only. pino children copy their level when created, so the long-lived component
// loggers are registered here and follow level changes; per-connection children are short-lived
// and pick up the level current when they are made.
import { pino, type Logger, type DestinationStream, type LevelWithSilent } from 'pino';

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
  }, destination ?? pino.destination({ dest: 1, sync: true }));
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
