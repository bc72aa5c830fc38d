// Reports each TrafficPermission's verdict (docs/policy.md "## Validation"): a log line when it changes
// (every replica, both modes), and its status.conditions (the leader in Kubernetes mode; local mode
// always). Runs after each change of the cluster source, one pass at a time (changes during a pass make
// one more); a failed write is retried after `retryMs`. A pass writes only what differs from what is
// stored (lastTransitionTime aside), so its own status writes coming back through the informer cost a
// pass and no write.
import type { ClusterSource } from '../discovery/types.js';
import type { Logger } from '../log.js';
import { compilePolicies } from './compile.js';
import { conditionsCurrent, desiredConditions, effectText, withTransitionTimes } from './conditions.js';
import type { StatusStore } from './status-store.js';
import type { TrafficPermissionObject, Verdict } from './types.js';

export interface PolicyReporterOptions {
  readonly source: ClusterSource;
  readonly store: StatusStore;
  readonly log: Logger;
  /** Kubernetes mode: only the leader writes status (absent: always). */
  readonly isLeader?: () => boolean;
  readonly retryMs?: number;
  readonly now?: () => Date;
}

export interface PolicyReporter {
  /** Runs a pass soon (a leader change, a test). */
  kick(): void;
  /** Resolves when no pass is running or due (tests). */
  idle(): Promise<void>;
  stop(): Promise<void>;
}

const signature = (v: Verdict): string => JSON.stringify([v.generation, v.effect, v.problems, v.warnings]);

export function startPolicyReporter(opts: PolicyReporterOptions): PolicyReporter {
  const { source, store, log } = opts;
  const retryMs = opts.retryMs ?? 5000;
  const now = opts.now ?? ((): Date => new Date());
  const logged = new Map<string, string>(); // key → signature of the verdict last logged
  /** key → what was last written and the resourceVersion the object had then (the informer may lag). */
  const written = new Map<string, { sig: string; rv: string | undefined }>();
  let initialised = false;
  let running: Promise<void> | undefined;
  let again = false;
  let retry: NodeJS.Timeout | undefined;
  let stopped = false;

  function report(key: string, v: Verdict): void {
    const sig = signature(v);
    const prev = logged.get(key);
    if (prev === sig) return;
    logged.set(key, sig);
    const fields = { policy: key, generation: v.generation, effect: v.effect };
    if (v.problems.length > 0) log.warn({ ...fields, problems: v.problems, warnings: v.warnings.length ? v.warnings : undefined }, `TrafficPermission ${key} is invalid (${v.problems.join('; ')}); it ${effectText(v)}`);
    else if (v.warnings.length > 0) log.warn({ ...fields, warnings: v.warnings }, `TrafficPermission ${key}: ${v.warnings.join('; ')}`);
    else if (prev !== undefined) log.info(fields, `TrafficPermission ${key} is valid again; ${effectText(v)}`);
    else log.debug(fields, `TrafficPermission ${key} is valid`);
  }

  async function pass(): Promise<void> {
    if (!initialised) { await store.init?.(); initialised = true; }
    const state = source.state();
    const { verdicts } = compilePolicies(state);
    for (const [key, v] of verdicts) report(key, v);
    for (const key of [...logged.keys()]) if (!verdicts.has(key)) { logged.delete(key); written.delete(key); }
    if (opts.isLeader && !opts.isLeader()) return;
    let failed = false;
    for (const [key, v] of verdicts) {
      if (stopped) return;
      const o = state.trafficPermissions.get(key) as TrafficPermissionObject;
      const desired = desiredConditions(v);
      const stored = store.stored(key, o);
      const current = conditionsCurrent(desired, stored?.conditions) && stored?.observedGeneration === v.generation;
      const sig = JSON.stringify(desired);
      const rv = o.metadata?.resourceVersion;
      const w = written.get(key);
      if (current || (w && w.sig === sig && w.rv === rv)) continue;
      const status = { ...(v.generation !== undefined ? { observedGeneration: v.generation } : {}), conditions: withTransitionTimes(desired, stored?.conditions, now()) };
      try {
        if (await store.write(key, o, status)) written.set(key, { sig, rv });
      } catch (err) {
        failed = true;
        log.error({ err, policy: key }, `writing the status of TrafficPermission ${key} failed; retrying in ${retryMs} ms`);
      }
    }
    await store.sweep?.(new Set(verdicts.keys()));
    if (failed && !stopped) {
      retry ??= setTimeout(() => { retry = undefined; kick(); }, retryMs);
      retry.unref();
    }
  }

  function kick(): void {
    if (stopped) return;
    if (running) { again = true; return; }
    running = (async () => {
      do {
        again = false;
        try {
          await pass();
        } catch (err) {
          log.error({ err }, 'reporting TrafficPermission status failed; retrying at the next change');
        }
      } while (again && !stopped);
      running = undefined;
    })();
  }

  const off = source.onChange(kick);
  kick();
  return {
    kick,
    idle: async () => { while (running) await running; },
    stop: async () => {
      stopped = true;
      off();
      if (retry) clearTimeout(retry);
      await running;
    },
  };
}
