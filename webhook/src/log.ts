// The one pino root logger of skein-cp. Components take `child({ component })` at wiring time.
// Synchronous stdout: a control plane logs little, and lines written just before exit must not be lost.
// Redaction is a second line of defence: no code path should hand a key or token to the logger.
import { pino, type Logger, type LevelWithSilent } from 'pino';

export type { Logger };

export const LOG_LEVELS: readonly LevelWithSilent[] = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

export function createRootLogger(level: LevelWithSilent, destination?: pino.DestinationStream): Logger {
  return pino(
    {
      level,
      base: { pid: process.pid, name: 'skein-cp' },
      redact: {
        paths: ['*.key', '*.keyPem', '*.caKeyPem', '*.privateKey', '*.token', 'key', 'keyPem', 'caKeyPem', 'token', 'data', '*.data'],
        censor: '[redacted]',
      },
    },
    destination ?? pino.destination({ dest: 1, sync: true }),
  );
}
