import type { Logger } from '../log.ts';
import type { Metrics } from '../metrics.ts';

/**
 * Counts a Lark event Ticketflow does not consume, however it came (webhook or long connection). A schema 2.0
 * approval event means a wrongly subscribed app (the v1 approval events are the ones read): counted by type and
 * said once per type.
 */
export function larkIgnoredEvents(log: Logger, metrics: Metrics): (outcome: { reason: string; eventType?: string }) => void {
  const warned = new Set<string>();
  return ({ reason, eventType }) => {
    metrics.eventsIgnored.inc({ provider: 'lark', reason });
    if (reason !== 'schema_2' || !eventType?.startsWith('approval.')) return;
    metrics.larkV2EventsDropped.inc({ event_type: eventType });
    if (warned.has(eventType)) return;
    warned.add(eventType);
    log.warn({ event_type: eventType }, 'Lark sent a schema 2.0 approval event, which Ticketflow does not consume: subscribe the app to the v1 approval events (approval_instance, approval_task) and subscribe each approval definition');
  };
}
