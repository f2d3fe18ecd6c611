import type { Pool } from 'pg';
import type { OutboundPolicy } from '../business/outbound.ts';
import type { Config } from '../config.ts';
import type { Logger } from '../log.ts';
import type { Metrics } from '../metrics.ts';
import { noAlarms, type Alarms } from './alarm.ts';
import type { AlarmChannel } from './channel.ts';
import { dingTalkRobotChannel, redactDingTalkHook } from './dingtalk-robot.ts';
import { AlarmDispatcher, type AlarmTuning } from './dispatcher.ts';
import { larkBotChannel, redactLarkHook } from './lark-bot.ts';
import { redactDsn } from './sentry.ts';

export interface RunningAlarms {
  alarms: Alarms;
  /** The channels in use, by name. */
  channels: string[];
  /** Sends what waits (a few seconds at most), flushes Sentry, and stops every timer. */
  stop(): Promise<void>;
}

/**
 * The runtime's alarms from its configuration: a channel per configured platform, one dispatcher over them; no
 * channel, no dispatcher. Sentry's SDK is imported here only when SENTRY_DSN is set.
 */
export async function startAlarms(config: Pick<Config, 'alarms' | 'allowedHosts' | 'publicUrl'>, deps: { pool?: Pool; log: Logger; metrics?: Pick<Metrics, 'alarms'>; tuning?: Partial<AlarmTuning> }): Promise<RunningAlarms> {
  const { alarms } = config;
  const channels: AlarmChannel[] = [];
  const policy = alarmPolicy(config);
  if (alarms.lark) channels.push(larkBotChannel({ url: alarms.lark.url, secret: alarms.lark.secret, policy }));
  if (alarms.dingtalk) channels.push(dingTalkRobotChannel({ url: alarms.dingtalk.url, secret: alarms.dingtalk.secret, policy }));
  if (alarms.sentryDsn) {
    try {
      const { sentryChannel } = await import('./sentry.ts');
      channels.push(await sentryChannel({ dsn: alarms.sentryDsn, policy }));
    } catch (e) {
      deps.log.error({ err: (e as Error).message }, 'Sentry could not be started (SENTRY_DSN is set): alarms go to the other channels only');
    }
  }
  if (channels.length === 0) return { alarms: noAlarms, channels: [], stop: async () => undefined };
  const dispatcher = new AlarmDispatcher({ channels, log: deps.log, metrics: deps.metrics, consoleUrl: config.publicUrl, pool: deps.pool, tuning: deps.tuning });
  const where = [
    alarms.lark && `Lark bot ${redactLarkHook(alarms.lark.url)}`,
    alarms.dingtalk && `DingTalk robot ${redactDingTalkHook(alarms.dingtalk.url)}`,
    alarms.sentryDsn && channels.some((c) => c.name === 'sentry') && `Sentry ${redactDsn(alarms.sentryDsn)}`,
  ].filter(Boolean);
  deps.log.info({ channels: dispatcher.channels }, `alarms go to ${where.join(', ')}`);
  return { alarms: dispatcher, channels: dispatcher.channels, stop: () => dispatcher.stop() };
}

/**
 * Alarm URLs pass the outbound guard like every other (no redirects, no link-local or metadata address, bounded
 * replies). They were checked at start against their platform's documented host, so they are allowed even when
 * TICKETFLOW_ALLOWED_HOSTS (which lists business hosts) does not name them.
 */
export function alarmPolicy(config: Pick<Config, 'alarms' | 'allowedHosts'>): OutboundPolicy {
  if (!config.allowedHosts) return {};
  const urls = [config.alarms.lark?.url, config.alarms.dingtalk?.url, config.alarms.sentryDsn].filter((u): u is string => Boolean(u));
  return { allowedHosts: [...config.allowedHosts, ...urls.map((u) => new URL(u).host)] };
}
