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

/**
 * What failures are counted under for a peer address: an IPv4 address as is, an IPv6 address by
 * its /64 network. One host commonly holds a whole /64 and could otherwise take a fresh address
 * for every few guesses. IPv4-mapped addresses count as their IPv4 address.
 */
export function clientKey(address: string | undefined): string {
  if (address === undefined) return "unknown";
  const mapped = /^::ffff:(\d{1,3}(?:\.\d{1,3}){3})$/i.exec(address);
  if (mapped) return mapped[1]!;
  if (!address.includes(":")) return address;
  const bare = address.replace(/%.*$/, "");
  const halves = bare.split("::");
  const groupsOf = (part: string | undefined) => (part ? part.split(":") : []);
  const head = groupsOf(halves[0]);
  const tail = groupsOf(halves[1]);
  // An embedded IPv4 tail ("::1.2.3.4") fills two groups.
  const tailWidth = tail.reduce((n, g) => n + (g.includes(".") ? 2 : 1), 0);
  const groups =
    halves.length === 1
      ? head
      : [...head, ...Array<string>(Math.max(0, 8 - head.length - tailWidth)).fill("0")];
  const prefix = groups
    .concat(tail)
    .slice(0, 4)
    .map((g) => (g.includes(".") ? g : Number.parseInt(g, 16).toString(16)));
  return `${prefix.join(":")}::/64`;
}
