/**
 * This process's instances whose events wait for a scheduled retry. `until` is before the retry can run (the
 * retry was added with that delay after `until` was taken), so until then a run for the instance can leave its
 * events to the retry.
 */
export class InstanceRetries {
  private readonly scheduled = new Map<string, { until: number; failures: number }>();

  /** Whether a run that is not the retry should leave the instance's events to it. */
  leaveToRetry(key: string): boolean {
    const pending = this.scheduled.get(key);
    return pending !== undefined && Date.now() < pending.until;
  }

  failures(key: string): number {
    return this.scheduled.get(key)?.failures ?? 0;
  }

  /** What is scheduled now, to tell later whether a run that failed meanwhile scheduled another retry. */
  current(key: string): object | undefined {
    return this.scheduled.get(key);
  }

  scheduledAt(key: string, until: number, failures: number): void {
    if (this.scheduled.size > 10_000) for (const [k, v] of this.scheduled) if (v.until < Date.now()) this.scheduled.delete(k);
    this.scheduled.set(key, { until, failures });
  }

  /** The instance's events were processed: no retry is waited for, unless one was scheduled since `seen`. */
  processed(key: string, seen: object | undefined): void {
    if (this.scheduled.get(key) === seen) this.scheduled.delete(key);
  }

  givenUp(key: string): void {
    this.scheduled.delete(key);
  }
}
