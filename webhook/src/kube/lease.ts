// Leader election over a coordination.k8s.io/v1 Lease, as a pure state machine (the I/O is leader.ts).
//
// Same rules as client-go's leaderelection: a replica trusts its *own* clock for how long it has seen a
// Lease unchanged (not the renewTime written by another replica, whose clock may differ), takes over only
// after a full leaseDuration without change, and steps down when it cannot renew within renewDeadline.
// Writes carry the resourceVersion they read, so two replicas racing for an expired Lease cannot both win.

export interface LeaseSpecView {
  readonly holderIdentity?: string | undefined;
  readonly leaseDurationSeconds?: number | undefined;
  readonly acquireTime?: Date | undefined;
  readonly renewTime?: Date | undefined;
  readonly leaseTransitions?: number | undefined;
}

export interface LeaseTimings {
  readonly leaseDurationMs: number;
  /** The leader gives up leadership if it has not renewed for this long (< leaseDuration). */
  readonly renewDeadlineMs: number;
  readonly retryPeriodMs: number;
}

export const DEFAULT_TIMINGS: LeaseTimings = { leaseDurationMs: 15_000, renewDeadlineMs: 10_000, retryPeriodMs: 2_000 };

/** What this replica last saw of the Lease and when (by its own clock) that content last changed. */
export interface Observation {
  readonly spec: LeaseSpecView;
  readonly observedAt: Date;
}

export type LeaseDecision =
  | { readonly kind: 'create'; readonly spec: LeaseSpecView }
  | { readonly kind: 'update'; readonly reason: 'renew' | 'acquire'; readonly spec: LeaseSpecView }
  | { readonly kind: 'follow'; readonly holder: string; readonly retryAt: Date };

function sameSpec(a: LeaseSpecView, b: LeaseSpecView): boolean {
  return a.holderIdentity === b.holderIdentity
    && a.renewTime?.getTime() === b.renewTime?.getTime()
    && a.leaseTransitions === b.leaseTransitions;
}

/** Records the Lease as read now; the observation time moves only when the content changed. */
export function observe(prev: Observation | undefined, current: LeaseSpecView, now: Date): Observation {
  if (prev && sameSpec(prev.spec, current)) return prev;
  return { spec: current, observedAt: now };
}

/** Decides what to write after reading the Lease (`current` undefined = it does not exist). */
export function decide(
  me: string,
  current: LeaseSpecView | undefined,
  observation: Observation | undefined,
  now: Date,
  timings: LeaseTimings = DEFAULT_TIMINGS,
): LeaseDecision {
  const durationSeconds = Math.ceil(timings.leaseDurationMs / 1000);
  if (current === undefined) {
    return { kind: 'create', spec: { holderIdentity: me, leaseDurationSeconds: durationSeconds, acquireTime: now, renewTime: now, leaseTransitions: 0 } };
  }
  const holder = current.holderIdentity ?? '';
  if (holder === me) {
    return { kind: 'update', reason: 'renew', spec: { ...current, leaseDurationSeconds: durationSeconds, renewTime: now } };
  }
  const released = holder === '';
  // The holder's own leaseDurationSeconds governs how long we wait, so replicas of different versions agree.
  const holderDurationMs = (current.leaseDurationSeconds ?? durationSeconds) * 1000;
  const seenSince = observation && sameSpec(observation.spec, current) ? observation.observedAt : now;
  const expiresAt = new Date(seenSince.getTime() + holderDurationMs);
  if (released || now.getTime() >= expiresAt.getTime()) {
    return {
      kind: 'update',
      reason: 'acquire',
      spec: {
        holderIdentity: me,
        leaseDurationSeconds: durationSeconds,
        acquireTime: now,
        renewTime: now,
        leaseTransitions: (current.leaseTransitions ?? 0) + 1,
      },
    };
  }
  const retryAt = new Date(Math.min(expiresAt.getTime(), now.getTime() + timings.retryPeriodMs));
  return { kind: 'follow', holder, retryAt };
}

/** Whether this replica may act as leader: its last successful write is within the renew deadline. */
export function isLeading(lastSuccessfulRenew: Date | undefined, now: Date, timings: LeaseTimings = DEFAULT_TIMINGS): boolean {
  return lastSuccessfulRenew !== undefined && now.getTime() - lastSuccessfulRenew.getTime() < timings.renewDeadlineMs;
}

/** The spec a leader writes on clean shutdown so a follower takes over at once instead of waiting. */
export function releaseSpec(current: LeaseSpecView): LeaseSpecView {
  return { ...current, holderIdentity: '', leaseDurationSeconds: 1, renewTime: undefined, acquireTime: undefined };
}
