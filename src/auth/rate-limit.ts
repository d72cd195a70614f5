/**
 * Counts failed logins per client address. Once `failures` failures fall within `windowMs`,
 * further logins from that address are refused, right password or not, until the oldest of
 * them leaves the window: a password guesser gets a handful of tries per window.
 */
export class FailedLoginLimiter {
  private readonly failuresByClient = new Map<string, number[]>();
  private lastSweep = 0;

  constructor(
    private readonly failures: number,
    private readonly windowMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  /** Milliseconds until the client may try again, or 0 when it may try now. */
  retryAfterMs(client: string): number {
    if (this.failures <= 0) return 0;
    const recent = this.recent(client);
    if (recent.length < this.failures) return 0;
    return Math.max(1, recent[recent.length - this.failures]! + this.windowMs - this.now());
  }

  /** Counts a failure; returns its time, which `forgive` takes to withdraw it. */
  recordFailure(client: string): number {
    const at = this.now();
    if (this.failures <= 0) return at;
    const recent = this.recent(client);
    recent.push(at);
    // Only the last `failures` timestamps decide when the client is let in again.
    if (recent.length > this.failures) recent.splice(0, recent.length - this.failures);
    this.failuresByClient.set(client, recent);
    this.sweep();
    return at;
  }

  /**
   * Withdraws one failure recorded at `at`: a login is counted as failed before its password is
   * checked (concurrent guesses would otherwise all pass `retryAfterMs` while the slow hash
   * comparisons run), and forgiven when the password turns out right. Earlier failures stay.
   */
  forgive(client: string, at: number): void {
    const recent = this.failuresByClient.get(client);
    const i = recent?.indexOf(at) ?? -1;
    if (i >= 0) recent!.splice(i, 1);
  }

  private recent(client: string): number[] {
    const cutoff = this.now() - this.windowMs;
    return (this.failuresByClient.get(client) ?? []).filter((t) => t > cutoff);
  }

  /** Forgets clients whose failures have all left the window, at most once per window. */
  private sweep(): void {
    const now = this.now();
    if (now - this.lastSweep < this.windowMs) return;
    this.lastSweep = now;
    for (const [client, times] of this.failuresByClient) {
      if (times.every((t) => t <= now - this.windowMs)) this.failuresByClient.delete(client);
    }
  }
}
