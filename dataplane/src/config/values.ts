// Parsers for single flag values (durations, ports, port lists). Each throws ConfigError naming the flag.
// portNumber and flagInParseArgsError are also used by init/config.ts, whose errors are InitFlagErrors.
import { ConfigError } from '../errors.js';

const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** `500ms`, `1s`, `1.5s`, `2m`, `1h`, `1m30s` or `0` → milliseconds. A bare number is rejected (ambiguous unit). */
export function parseDuration(flag: string, raw: string): number {
  const text = raw.trim();
  if (text === '0') return 0;
  const part = /(\d+(?:\.\d+)?)(ms|s|m|h)/gy;
  let total = 0;
  let consumed = 0;
  for (let match = part.exec(text); match; match = part.exec(text)) {
    total += Number(match[1]) * (UNIT_MS[match[2] as string] as number);
    consumed = part.lastIndex;
  }
  if (consumed === 0 || consumed !== text.length) {
    throw new ConfigError(flag, `"${raw}" is not a duration; write e.g. 500ms, 1s, 2m or 1h`);
  }
  return Math.round(total);
}

/** The number in `raw` (blanks around it allowed) when it is 0–65535; undefined otherwise. Shared with init. */
export function portNumber(raw: string): number | undefined {
  const text = raw.trim();
  if (!/^\d{1,5}$/.test(text)) return undefined;
  const port = Number(text);
  return port <= 65535 ? port : undefined;
}

/**
 * The flag named in a node:util parseArgs error ("Unknown option '--x'", "Option '--y <value>' argument
 * missing"), with its dashes; undefined when the message names none. Shared with init.
 */
export function flagInParseArgsError(message: string): string | undefined {
  return /'(--?[\w-]+)/.exec(message)?.[1] ?? /(--?[\w-]+)/.exec(message)?.[1];
}

/** A TCP port 0–65535 (0 = let the OS pick, used by tests). */
export function parsePort(flag: string, raw: string): number {
  if (!/^\d{1,5}$/.test(raw.trim())) throw new ConfigError(flag, `"${raw}" is not a port number`);
  const port = portNumber(raw);
  if (port === undefined) throw new ConfigError(flag, `${Number(raw)} is not a port number (0–65535)`);
  return port;
}

/** Comma list of ports or ranges (`25,3306,8000-8010`), blanks ignored. */
export function parsePortList(flag: string, raw: string): number[] {
  const ports: number[] = [];
  for (const item of raw.split(',').map((s) => s.trim()).filter(Boolean)) {
    const range = /^(\d+)-(\d+)$/.exec(item);
    if (range) {
      const low = parsePort(flag, range[1] as string);
      const high = parsePort(flag, range[2] as string);
      if (low < 1 || high < low) throw new ConfigError(flag, `"${item}" is not a port range`);
      for (let p = low; p <= high; p++) ports.push(p);
      continue;
    }
    const port = parsePort(flag, item);
    if (port < 1) throw new ConfigError(flag, `port 0 cannot be listed`);
    ports.push(port);
  }
  return ports;
}

/** A positive integer flag (`--max-upstream-sockets`). */
export function parsePositiveInt(flag: string, raw: string): number {
  if (!/^\d+$/.test(raw.trim()) || Number(raw) < 1) throw new ConfigError(flag, `"${raw}" is not a positive integer`);
  return Number(raw);
}
