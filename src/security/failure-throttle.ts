/**
 * Failed authentications per client, in a sliding window: past `limit` failures a client is refused (429) until
 * its oldest failure leaves the window. Per process (each replica counts its own); bounded in memory: past
 * `maxClients` the client idle longest is forgotten.
 */
export class FailureThrottle {
  private readonly failures = new Map<string, number[]>();

  constructor(
    private readonly limit: number,
    private readonly windowMs: number,
    private readonly maxClients = 10_000,
  ) {}

  /** Seconds until the client may try again, or 0 when it may now. */
  retryAfter(client: string, now = Date.now()): number {
    const recent = this.recent(client, now);
    if (recent.length < this.limit) return 0;
    return Math.max(1, Math.ceil((recent[0]! + this.windowMs - now) / 1000));
  }

  fail(client: string, now = Date.now()): void {
    const recent = this.recent(client, now);
    recent.push(now);
    this.failures.delete(client);
    this.failures.set(client, recent);
    if (this.failures.size > this.maxClients) this.failures.delete(this.failures.keys().next().value!);
  }

  private recent(client: string, now: number): number[] {
    const list = (this.failures.get(client) ?? []).filter((t) => t > now - this.windowMs);
    if (list.length === 0) this.failures.delete(client);
    return list;
  }
}
