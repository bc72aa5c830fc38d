// The proxy's lifecycle state, read by /ready on both the admin and the health server.
//   starting → ready (listeners bound; with a control plane also a valid certificate and a first
//   discovery snapshot, see requireAlso) → draining → stopped
export type StateName = 'starting' | 'ready' | 'draining' | 'stopped';

export class ProxyState {
  private current: StateName = 'starting';
  private gate: (() => string | undefined) | undefined;

  name(): StateName {
    return this.current;
  }

  /** A further condition of readiness, checked on every /ready: returns why it is not met, or undefined. */
  requireAlso(gate: () => string | undefined): void {
    this.gate = gate;
  }

  isReady(): boolean {
    return this.current === 'ready' && this.gate?.() === undefined;
  }

  /** What /ready answers when not ready: the state, or the unmet condition while the state is ready. */
  notReadyReason(): string {
    return this.current === 'ready' ? (this.gate?.() ?? 'ready') : this.current;
  }

  isDraining(): boolean {
    return this.current === 'draining' || this.current === 'stopped';
  }

  markReady(): void {
    if (this.current === 'starting') this.current = 'ready';
  }

  markDraining(): void {
    if (this.current !== 'stopped') this.current = 'draining';
  }

  markStopped(): void {
    this.current = 'stopped';
  }
}
