// When to re-issue a certificate. Pure functions of (validity window, now) so they are unit-tested.
//
// We rotate at 80% of the lifetime (1-year serving cert → ~73 days of slack): long enough that a
// control plane which is down for a while still rotates before expiry, short enough that a stuck
// rotation shows up in logs for weeks before anything breaks.

export const ROTATE_AT_FRACTION = 0.8;
/** setTimeout fires immediately for delays above 2^31-1 ms (~24.8 days); never ask it for more. */
export const MAX_TIMER_MS = 2 ** 31 - 1;

export interface Window {
  readonly validFrom: Date;
  readonly validTo: Date;
}

export type RotationVerdict =
  | { readonly rotate: false; readonly rotateAt: Date }
  | { readonly rotate: true; readonly reason: 'due' | 'expired' | 'not-yet-valid' | 'empty-window' };

export function rotationTime(w: Window, fraction = ROTATE_AT_FRACTION): Date {
  const from = w.validFrom.getTime();
  return new Date(from + (w.validTo.getTime() - from) * fraction);
}

export function assessRotation(w: Window, now: Date, fraction = ROTATE_AT_FRACTION): RotationVerdict {
  const t = now.getTime();
  if (w.validTo.getTime() <= w.validFrom.getTime()) return { rotate: true, reason: 'empty-window' };
  if (t >= w.validTo.getTime()) return { rotate: true, reason: 'expired' };
  // A certificate from the future (clock jumped back, or issued by a replica with a fast clock) beyond
  // the skew we backdate by cannot be served to an API server with a correct clock: re-issue.
  if (t < w.validFrom.getTime()) return { rotate: true, reason: 'not-yet-valid' };
  const rotateAt = rotationTime(w, fraction);
  if (t >= rotateAt.getTime()) return { rotate: true, reason: 'due' };
  return { rotate: false, rotateAt };
}

/** Delay for the next check: until the rotation time, capped so setTimeout does not overflow. */
export function nextCheckDelayMs(w: Window, now: Date, fraction = ROTATE_AT_FRACTION): number {
  const verdict = assessRotation(w, now, fraction);
  if (verdict.rotate) return 0;
  return Math.min(MAX_TIMER_MS, Math.max(0, verdict.rotateAt.getTime() - now.getTime()));
}
