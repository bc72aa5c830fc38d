// The proxy's lifecycle state, read by /ready on both the admin and the health server.
//   starting → ready (listeners bound; later: and certificates loaded) → draining → stopped
export type StateName = 'starting' | 'ready' | 'draining' | 'stopped';

export class ProxyState {
  private current: StateName = 'starting';

  name(): StateName {
    return this.current;
  }

  isReady(): boolean {
    return this.current === 'ready';
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
