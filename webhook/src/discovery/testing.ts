// Test support for the discovery tests (not a test file): a logger whose lines the test can read, and a
// wait for a source to reach a state.
import { Writable } from 'node:stream';
import { pino } from 'pino';
import type { Logger } from '../log.js';
import type { ClusterSource, ClusterState } from './types.js';

export function memoryLogger(): { log: Logger; lines: () => Record<string, unknown>[] } {
  const lines: Record<string, unknown>[] = [];
  const dest = new Writable({
    write(chunk: Buffer, _enc, cb) {
      for (const l of chunk.toString().split('\n')) if (l.trim() !== '') lines.push(JSON.parse(l) as Record<string, unknown>);
      cb();
    },
  });
  return { log: pino({ level: 'debug' }, dest), lines: () => lines };
}

/** Resolves once `predicate(state)` holds (checked now and on every change); rejects after `ms`. */
export function waitForState(source: ClusterSource, predicate: (s: ClusterState) => boolean, what: string, ms = 10_000): Promise<ClusterState> {
  return new Promise((resolve, reject) => {
    const check = (): boolean => {
      const s = source.state();
      if (!predicate(s)) return false;
      off();
      clearTimeout(timer);
      resolve(s);
      return true;
    };
    const off = source.onChange(() => void check());
    const timer = setTimeout(() => {
      off();
      reject(new Error(`timed out after ${ms} ms waiting for: ${what}`));
    }, ms);
    check();
  });
}
