// The journal: every host object an instance creates is recorded here BEFORE it is created, so that
// `down` can remove it even after a crash. Append-only JSON lines; `down` undoes them in reverse order.
import { appendFileSync, mkdirSync, readFileSync } from 'node:fs';
import { dirname } from 'node:path';

export type JournalEntry =
  | { t: 'bridge'; name: string }
  | { t: 'link'; name: string }
  | { t: 'netns'; name: string }
  | { t: 'route'; args: string[] }
  /** ip6: an ip6tables chain or jump (absent: iptables). */
  | { t: 'chain'; table: string; name: string; ip6?: boolean }
  | { t: 'jump'; table: string; chain: string; args: string[]; ip6?: boolean }
  /** A host-wide sysctl held for this instance (network/host-sysctl.ts); released by `down`. */
  | { t: 'sysctl'; key: string; holder: string }
  | { t: 'process'; pid: number; startTime: string; what: string }
  | { t: 'dir'; path: string }
  /** Created only to mount over; removed while empty. */
  | { t: 'mountpoint'; path: string }
  /** A filesystem mounted at path (the tmpfs of a medium: Memory emptyDir); unmounted by `down`. */
  | { t: 'mount'; path: string };

export class Journal {
  constructor(readonly path: string) {
    mkdirSync(dirname(path), { recursive: true });
  }

  /** Synchronous on purpose: the entry must be on disk before the object exists. */
  record(e: JournalEntry): void {
    appendFileSync(this.path, `${JSON.stringify(e)}\n`);
  }
}

export function readJournal(path: string): JournalEntry[] {
  let text = '';
  try { text = readFileSync(path, 'utf8'); } catch { return []; }
  const out: JournalEntry[] = [];
  for (const line of text.split('\n')) {
    if (!line.trim()) continue;
    try { out.push(JSON.parse(line) as JournalEntry); } catch { /* a torn last line after a crash */ }
  }
  return out;
}

/** Field 22 of /proc/<pid>/stat: start time in clock ticks; tells a recorded pid from a reused one. */
export function processStartTime(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
  } catch {
    return undefined;
  }
}
