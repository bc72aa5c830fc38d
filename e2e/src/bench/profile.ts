// Summarises V8 .cpuprofile files (written by node --cpu-prof): self time summed by function name +
// script URL + line over all given files, top N. Idle time is reported apart so the percentages say
// what the busy CPU did.
import { readFile } from 'node:fs/promises';

interface CallFrame { functionName: string; url: string; lineNumber: number }
interface ProfileNode { id: number; callFrame: CallFrame }
interface CpuProfile { nodes: ProfileNode[]; samples: number[]; timeDeltas: number[]; startTime: number; endTime: number }

export interface ProfileEntry {
  function: string;
  url: string;
  selfMs: number;
  pctOfBusy: number;
}

export interface ProfileSummary {
  files: number;
  totalMs: number;
  idleMs: number;
  busyMs: number;
  top: ProfileEntry[];
}

function shortUrl(url: string, repoRoot: string): string {
  return url.replace(`file://${repoRoot}/`, '').replace(/^node:/, 'node:');
}

export async function summariseProfiles(files: string[], repoRoot: string, topN = 15): Promise<ProfileSummary> {
  const self = new Map<string, { fn: string; url: string; us: number }>();
  let totalUs = 0;
  let idleUs = 0;
  for (const file of files) {
    const prof = JSON.parse(await readFile(file, 'utf8')) as CpuProfile;
    const byId = new Map(prof.nodes.map((n) => [n.id, n.callFrame]));
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
      const key = `${fn}\u0000${url}`;
      const e = self.get(key) ?? { fn, url, us: 0 };
      e.us += us;
      self.set(key, e);
    });
  }
  const busyUs = totalUs - idleUs;
  const ms = (us: number): number => Math.round(us / 100) / 10;
  const top = [...self.values()].sort((a, b) => b.us - a.us).slice(0, topN).map((e) => ({
    function: e.fn,
    url: e.url,
    selfMs: ms(e.us),
    pctOfBusy: busyUs > 0 ? Math.round((e.us / busyUs) * 1000) / 10 : 0,
  }));
  return { files: files.length, totalMs: ms(totalUs), idleMs: ms(idleUs), busyMs: ms(busyUs), top };
}
