// The daemon's pino root logger. Components take child loggers ({ component }, then { ns, pod, container }).
import { pino, type Logger } from 'pino';

export type { Logger };

/** Logger writing JSON lines to `dest` (a file path, appended) or stderr when absent. */
export function rootLogger(dest?: string, level = process.env.SKEIN_LOCAL_LOG_LEVEL ?? 'info'): Logger {
  const stream = dest ? pino.destination({ dest, append: true, mkdir: true, sync: true }) : pino.destination(2);
  return pino({ level, base: { app: 'skein-local' }, redact: ['token', '*.token', 'key'] }, stream);
}

/** A logger that drops everything (unit tests, CLI commands that never log). */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
