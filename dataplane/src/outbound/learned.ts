// Destinations recently seen speaking HTTP (ip:port → until when): the outbound sidecar skips the
// pre-dial for them, so an HTTP client does not pay a wasted upstream (mTLS) connection per connection.
// Bounded (the keys come from destinations the app chose): the oldest entry goes first. May import nothing.

export class LearnedProtocols {
  private readonly http = new Map<string, number>();

  constructor(private readonly max = 4096, private readonly ttlMs = 10 * 60_000) {}

  isHttp(key: string, now = Date.now()): boolean {
    const until = this.http.get(key);
    if (until === undefined) return false;
    if (until > now) return true;
    this.http.delete(key);
    return false;
  }

  markHttp(key: string, now = Date.now()): void {
    this.http.delete(key);
    if (this.http.size >= this.max) this.http.delete(this.http.keys().next().value as string);
    this.http.set(key, now + this.ttlMs);
  }

  /** A destination that answered as a server-first (or other non-HTTP) protocol is forgotten. */
  forget(key: string): void {
    this.http.delete(key);
  }

  get size(): number {
    return this.http.size;
  }
}
