import type { Pool } from 'pg';
import type { Alarms } from '../alarms/alarm.ts';
import type { Logger } from '../log.ts';
import { addImCalls } from '../store/sql/add-im-calls.ts';
import { quotaExempt } from './dingtalk/api.ts';
import type { ImCallOutcome } from './im-health.ts';
import { imName } from './im-name.ts';

/**
 * An IM's monthly API quota "nearly spent". Neither IM says how much of its quota is left: DingTalk names its quota
 * only once it is spent (90020 / Forbidden.AccessDenied.ApiCountLimitForOrg, "您的企业本月api调用量已超过限制，
 * 调用量:10001次，额度:10000次", counted per calendar month: "调用量是按自然月统计"), and the Lark client here knows
 * no quota answer at all. So what is observable is counted: every call of every replica that the IM answered
 * (`ok` or `error`; DingTalk's access token and contact APIs, which its page exempts from the quota, are not
 * counted), added per calendar month in China Standard Time to `im_call_months`. When a month's count of an IM
 * reaches TICKETFLOW_ALERT_IM_CALLS_PER_MONTH, the one replica whose addition crossed it raises `im_quota` (and the
 * spent quota itself is raised by ImHealth when the IM says so).
 */
export class ImUsage {
  private readonly pending = new Map<string, number>();
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly deps: {
      pool: Pool;
      log: Logger;
      alarms: Alarms;
      /** TICKETFLOW_ALERT_IM_CALLS_PER_MONTH; unset: counted, never alarmed. */
      threshold?: number;
      flushEveryMs?: number;
      now?: () => number;
    },
  ) {}

  /** One outgoing call and how it ended (from the IM clients' observer). */
  count(provider: string, api: string, outcome: ImCallOutcome): void {
    if (outcome !== 'ok' && outcome !== 'error') return;
    if (provider === 'dingtalk' && quotaExempt(api)) return;
    this.pending.set(provider, (this.pending.get(provider) ?? 0) + 1);
  }

  /** Adds the counts every minute; the timer never holds the process open. */
  start(): void {
    if (this.timer) return;
    this.timer = setInterval(() => void this.flush(), this.deps.flushEveryMs ?? 60_000);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    this.timer = undefined;
    await this.flush();
  }

  /** Adds what was counted since the last flush; a failed addition is kept for the next. Never throws. */
  async flush(): Promise<void> {
    const month = chinaMonth((this.deps.now ?? Date.now)());
    for (const [provider, calls] of [...this.pending]) {
      this.pending.delete(provider);
      try {
        const { before, after } = await addImCalls(this.deps.pool, provider, month, calls);
        const threshold = this.deps.threshold;
        if (threshold && before < threshold && after >= threshold) {
          const im = imName(provider);
          this.deps.log.warn({ provider, month, calls: after, threshold }, `${im}: ${after} API calls counted this month, reaching TICKETFLOW_ALERT_IM_CALLS_PER_MONTH (${threshold})`);
          this.deps.alarms.raise({
            kind: 'im_quota',
            key: `${provider}:${month}:calls`,
            title: `${im} API calls this month reached ${after} (alarm at ${threshold})`,
            text: `Ticketflow has made ${after} ${im} API calls counted against the organisation's monthly quota in ${month} (China Standard Time), which reaches TICKETFLOW_ALERT_IM_CALLS_PER_MONTH (${threshold}). When the quota is spent, IM calls fail until the month ends: raise the plan's quota, or lower the calls (TICKETFLOW_DRIFT_CHECK_INTERVAL_MS, TICKETFLOW_RECONCILE_AFTER_MS).`,
            link: '/',
          });
        }
      } catch (e) {
        this.pending.set(provider, (this.pending.get(provider) ?? 0) + calls);
        this.deps.log.debug({ provider, err: (e as Error).message }, 'IM call counts not stored; kept for the next minute');
      }
    }
  }
}

/** The calendar month in China Standard Time (UTC+8, no daylight saving): `2026-11`. */
export function chinaMonth(ms: number): string {
  return new Date(ms + 8 * 3_600_000).toISOString().slice(0, 7);
}
