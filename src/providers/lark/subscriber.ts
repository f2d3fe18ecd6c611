import type { Logger } from '../../log.ts';
import type { Metrics } from '../../metrics.ts';
import { LarkError, type LarkApi } from './api.ts';

/**
 * Subscribes each Lark approval definition once. Failures are retried in the background with backoff (up to
 * 5 minutes apart) and never make the runtime unready: events of a definition subscribed earlier keep coming.
 * Refused credentials are not the definition's fault: they are said once (by the API's observer), and every
 * definition waits for the next credentials check instead of logging its own failure.
 */
export class LarkSubscriber {
  private readonly done = new Set<string>();
  private readonly pending = new Map<string, NodeJS.Timeout>();
  private stopped = false;

  constructor(
    private readonly api: LarkApi,
    private readonly log: Logger,
    private readonly metrics: Metrics,
  ) {}

  ensure(approvalCodes: Iterable<string>): void {
    for (const code of approvalCodes) {
      if (!this.done.has(code) && !this.pending.has(code)) void this.attempt(code, 0);
    }
  }

  isSubscribed(code: string): boolean {
    return this.done.has(code);
  }

  stop(): void {
    this.stopped = true;
    for (const t of this.pending.values()) clearTimeout(t);
    this.pending.clear();
  }

  private async attempt(code: string, failures: number): Promise<void> {
    this.pending.set(code, setTimeout(() => undefined, 0));
    try {
      const result = await this.api.subscribe(code);
      this.done.add(code);
      this.pending.delete(code);
      this.metrics.larkSubscriptions.inc({ result });
      this.log.info({ approval_code: code, result }, 'subscribed to Lark approval events');
    } catch (e) {
      this.metrics.larkSubscriptions.inc({ result: 'error' });
      const credentials = e instanceof LarkError && e.credentialsRefused;
      const delay = credentials ? (e.retryAfterSeconds ?? 60) * 1000 : Math.min(300_000, 1_000 * 2 ** failures);
      if (credentials) this.log.debug({ approval_code: code, retry_in_ms: delay }, 'Lark subscription waits for valid credentials');
      else this.log.warn({ approval_code: code, err: (e as Error).message, retry_in_ms: delay }, 'Lark subscription failed; retrying in the background');
      if (this.stopped) return;
      this.pending.set(code, setTimeout(() => void this.attempt(code, failures + 1), delay).unref());
    }
  }
}
