import type { Logger } from '../log.ts';
import type { Metrics } from '../metrics.ts';
import type { PipelineRegistry } from '../registry/registry.ts';
import type { InboundEvent } from './inbound-event.ts';
import type { EventInbox } from './inbox.ts';
import { UnstorableEvent } from './storable.ts';

export interface IntakeDeps {
  log: Logger;
  metrics: Metrics;
  registry: Pick<PipelineRegistry, 'knowsDefinition'>;
  inbox: Pick<EventInbox, 'add'>;
}

/** What became of one event; each transport answers its IM from it. */
export type IntakeOutcome =
  | { kind: 'stored' }
  | { kind: 'duplicate' }
  /** No pipeline handles its definition. */
  | { kind: 'ignored' }
  /** PostgreSQL refuses it, whenever it is sent. */
  | { kind: 'unstorable'; message: string }
  /** The database failed: the IM must deliver it again. */
  | { kind: 'unavailable'; error: unknown };

/** How the log lines name the way the event came ("Lark event", "DingTalk push"), and what else they carry (the caller's ip). */
export interface Arrival {
  label: string;
  fields?: Record<string, unknown>;
}

const imName = { lark: 'Lark', dingtalk: 'DingTalk', wecom: 'WeCom' } as const;

/** Keeps one decoded IM event: stored in the inbox (deduplicated) when some pipeline handles its definition, counted, logged. */
export async function takeEvent({ log, metrics, registry, inbox }: IntakeDeps, event: InboundEvent, arrival: Arrival): Promise<IntakeOutcome> {
  const { provider } = event;
  if (!event.definitionCode || !registry.knowsDefinition(provider, event.definitionCode)) {
    metrics.eventsIgnored.inc({ provider, reason: 'unknown_definition' });
    return { kind: 'ignored' };
  }
  let result;
  try {
    result = await inbox.add(event);
  } catch (e) {
    if (e instanceof UnstorableEvent) {
      metrics.eventsRefused.inc({ provider, reason: 'unstorable' });
      log.warn({ reason: 'unstorable', event_id: event.eventId.slice(0, 100), ...arrival.fields }, `${arrival.label} refused: ${e.message}`);
      return { kind: 'unstorable', message: e.message };
    }
    metrics.eventsRefused.inc({ provider, reason: 'database_unavailable' });
    log.error({ err: (e as Error).message, event_id: event.eventId, ...arrival.fields }, `could not store a ${imName[provider]} event; ${imName[provider]} will retry`);
    return { kind: 'unavailable', error: e };
  }
  if (result === 'stored') metrics.eventsReceived.inc({ provider, type: event.eventType });
  else metrics.eventsDuplicate.inc({ provider });
  log.debug({ event_id: event.eventId, type: event.eventType, instance: event.instanceCode, result, ...arrival.fields }, arrival.label);
  return { kind: result };
}
