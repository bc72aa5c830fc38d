// Summarises V8 .cpuprofile files (written by node --cpu-prof, or by the inspector's Profiler):
// self time summed by function name + script URL + line over all given files, top N. Idle time is
// reported apart so the percentages say what the busy CPU did.
//
// Native functions (writev, writeLatin1String, …) have no script; on their own they say little, so
// each is also given `via`: the area of its nearest JavaScript caller (e.g. "npm sonic-boom" for a
// log write, "node http" for a response header), and the by-area totals count it there.
import { readFile } from 'node:fs/promises';

interface CallFrame { functionName: string; url: string; lineNumber: number }
interface ProfileNode { id: number; callFrame: CallFrame; children?: number[] }
interface CpuProfile { nodes: ProfileNode[]; samples: number[]; timeDeltas: number[]; startTime: number; endTime: number }

export interface ProfileEntry {
  function: string;
  url: string;
  via?: string; // native functions: area of the nearest JavaScript caller
  selfMs: number;
  pctOfBusy: number;
}

export interface ProfileSummary {
  files: number;
  totalMs: number;
  idleMs: number;
  busyMs: number;
  top: ProfileEntry[];
  /** Busy time by where the code lives: Skein's own, a dependency, a Node core module, V8/native. */
  byArea: { area: string; selfMs: number; pctOfBusy: number }[];
}

const VM_FRAMES = new Set(['(garbage collector)', '(program)', '(root)', '(idle)']);

/** `dataplane/dist/http/pool.js` → "skein dataplane/http"; node_modules/x → "npm x"; node:_tls_wrap → "node tls";
 *  node:internal/streams/* → "node streams" (the Readable/Writable machinery). */
export function areaOf(url: string, fn: string): string {
  if (!url) return fn === '(garbage collector)' ? 'v8 gc' : fn === '(program)' ? 'v8/native (program)' : 'native (no script)';
  const mod = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (mod) return `npm ${mod[1]}`;
  const skein = /(dataplane|webhook|api|e2e)\/dist\/([^/:]+)/.exec(url);
  if (skein) return `skein ${skein[1]}/${skein[2]!.replace(/\.js$/, '')}`;
  const core = /^node:(?:internal\/)?_?([a-z_]+)/.exec(url);
  // stream_base_commons is the socket write path (writev/writeLatin1String on a TCP handle): "net".
  if (core) return `node ${core[1]!.replace(/^stream_base_commons$/, 'net').replace(/^(http|tls)_.*/, '$1')}`;
  return url.replace(/:\d+$/, '');
}

function shortUrl(url: string, repoRoot: string): string {
  return url.replace(`file://${repoRoot}/`, '');
}

/** For each node: the area of the nearest ancestor (or itself) that has a script. */
function scriptAreas(prof: CpuProfile, repoRoot: string): Map<number, string | undefined> {
  const byId = new Map(prof.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of prof.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const memo = new Map<number, string | undefined>();
  const resolve = (id: number): string | undefined => {
    if (memo.has(id)) return memo.get(id);
    const cf = byId.get(id)?.callFrame;
    const p = parent.get(id);
    const area = cf?.url ? areaOf(shortUrl(cf.url, repoRoot), cf.functionName) : p !== undefined ? resolve(p) : undefined;
    memo.set(id, area);
    return area;
  };
  for (const n of prof.nodes) resolve(n.id);
  return memo;
}

export async function summariseProfiles(files: string[], repoRoot: string, topN = 15): Promise<ProfileSummary> {
  const self = new Map<string, { fn: string; url: string; via?: string; us: number }>();
  const areas = new Map<string, number>();
  let totalUs = 0;
  let idleUs = 0;
  for (const file of files) {
    const prof = JSON.parse(await readFile(file, 'utf8')) as CpuProfile;
    const byId = new Map(prof.nodes.map((n) => [n.id, n.callFrame]));
    const callerArea = scriptAreas(prof, repoRoot);
    prof.samples.forEach((id, i) => {
      const us = prof.timeDeltas[i] ?? 0;
      const cf = byId.get(id);
      if (!cf || us <= 0) return;
      totalUs += us;
      if (cf.functionName === '(idle)') {
        idleUs += us;
        return;
      }
      const fn = cf.functionName || '(anonymous)';
      const url = cf.url ? `${shortUrl(cf.url, repoRoot)}:${cf.lineNumber + 1}` : '';
      const via = !cf.url && !VM_FRAMES.has(fn) ? callerArea.get(id) : undefined;
      const key = `${fn}\u0000${url}\u0000${via ?? ''}`;
      const e = self.get(key) ?? { fn, url, ...(via ? { via } : {}), us: 0 };
      e.us += us;
      self.set(key, e);
      const area = via ?? areaOf(url, fn);
      areas.set(area, (areas.get(area) ?? 0) + us);
    });
  }
  const busyUs = totalUs - idleUs;
  const ms = (us: number): number => Math.round(us / 100) / 10;
  const pct = (us: number): number => (busyUs > 0 ? Math.round((us / busyUs) * 1000) / 10 : 0);
  const top = [...self.values()].sort((a, b) => b.us - a.us).slice(0, topN).map((e) => ({
    function: e.fn, url: e.url, ...(e.via ? { via: e.via } : {}), selfMs: ms(e.us), pctOfBusy: pct(e.us),
  }));
  const byArea = [...areas.entries()].sort((a, b) => b[1] - a[1]).slice(0, topN)
    .map(([area, us]) => ({ area, selfMs: ms(us), pctOfBusy: pct(us) }));
  return { files: files.length, totalMs: ms(totalUs), idleMs: ms(idleUs), busyMs: ms(busyUs), top, byArea };
}
