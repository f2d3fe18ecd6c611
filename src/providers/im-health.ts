import type { Alarms } from '../alarms/alarm.ts';
import type { Logger } from '../log.ts';
import type { Metrics } from '../metrics.ts';
import { imName } from './im-name.ts';

/** How one outgoing IM call ended, for `ticketflow_im_api_calls_total`. */
export type ImCallOutcome = 'ok' | 'error' | 'rate_limited' | 'quota_exhausted' | 'unreachable' | 'credentials_refused';

/** What an IM client reports about its calls: each call, refused credentials, a spent monthly quota. */
export interface ImObserver {
  call(api: string, outcome: ImCallOutcome): void;
  /** The IM refused the app's credentials: `variable` names what the operator must fix. */
  credentialsRefused(variable: string, message: string): void;
  credentialsAccepted(): void;
  /** The organisation's monthly API quota is spent: nothing will work until it resets. */
  quotaExhausted(message: string): void;
  quotaAvailable(): void;
}

/** An observer that records nothing (CLI tools, unit tests). */
export const silentObserver: ImObserver = { call: () => undefined, credentialsRefused: () => undefined, credentialsAccepted: () => undefined, quotaExhausted: () => undefined, quotaAvailable: () => undefined };

interface ProviderHealth {
  credentials?: { variable: string; message: string; since: Date };
  quota?: { message: string; since: Date };
}

/**
 * The runtime's view of each IM's reachability: refused credentials and a spent quota are said once (at error
 * level, naming what to fix), exported as gauges, and turn `/readyz` 503 with the reason, until a call succeeds.
 */
export class ImHealth {
  private readonly state = new Map<string, ProviderHealth>();

  constructor(
    private readonly log: Logger,
    private readonly metrics: Metrics,
    /** A spent quota raises `im_quota`; `usage` counts the calls that count against it (src/providers/im-usage.ts). */
    private readonly alarms?: { alarms: Alarms; usage?: { count(provider: string, api: string, outcome: ImCallOutcome): void } },
  ) {}

  observer(provider: 'lark' | 'dingtalk' | 'wecom'): ImObserver {
    const entry = (): ProviderHealth => this.state.get(provider) ?? this.state.set(provider, {}).get(provider)!;
    return {
      call: (api, outcome) => {
        this.metrics.imApiCalls.inc({ provider, api, outcome });
        this.alarms?.usage?.count(provider, api, outcome);
      },
      credentialsRefused: (variable, message) => {
        const e = entry();
        if (e.credentials) return;
        e.credentials = { variable, message, since: new Date() };
        this.metrics.imCredentialsRefused.set({ provider }, 1);
        this.log.error({ provider, variable }, `${provider} refused the app's credentials (${message}): fix ${variable}. Calls to ${provider} are retried slowly until it accepts them; /readyz answers 503 meanwhile.`);
      },
      credentialsAccepted: () => {
        const e = entry();
        if (!e.credentials) return;
        e.credentials = undefined;
        this.metrics.imCredentialsRefused.set({ provider }, 0);
        this.log.info({ provider }, `${provider} accepts the app's credentials again`);
      },
      quotaExhausted: (message) => {
        const e = entry();
        if (e.quota) return;
        e.quota = { message, since: new Date() };
        this.metrics.imQuotaExhausted.set({ provider }, 1);
        this.log.error({ provider }, `${provider}: the organisation's monthly API call quota is spent (${message}). IM calls back off for an hour at a time until it resets; upgrade the plan or wait for the next month.`);
        this.alarms?.alarms.raise({
          kind: 'im_quota',
          key: `${provider}:spent`,
          title: `${imName(provider)}: the organisation's monthly API call quota is spent`,
          text: `${message}. Tickets cannot be read, checked or approved in the IM until the quota resets: IM calls back off for an hour at a time. Upgrade the plan, or wait for the next month.`,
          link: '/',
        });
      },
      quotaAvailable: () => {
        const e = entry();
        if (!e.quota) return;
        e.quota = undefined;
        this.metrics.imQuotaExhausted.set({ provider }, 0);
        this.log.info({ provider }, `${provider}: API calls are accepted again`);
      },
    };
  }

  /** Why the runtime cannot work with an IM now, one line each (empty when all is well). */
  problems(): Array<{ provider: string; reason: 'credentials_refused' | 'quota_exhausted'; message: string; since: string }> {
    const out: ReturnType<ImHealth['problems']> = [];
    for (const [provider, h] of this.state) {
      if (h.credentials) out.push({ provider, reason: 'credentials_refused', message: `${h.credentials.message}: fix ${h.credentials.variable}`, since: h.credentials.since.toISOString() });
      if (h.quota) out.push({ provider, reason: 'quota_exhausted', message: h.quota.message, since: h.quota.since.toISOString() });
    }
    return out;
  }
}
