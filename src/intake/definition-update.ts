import type { DefinitionWatch } from '../doctor/watch.ts';
import type { Logger } from '../log.ts';
import type { Metrics } from '../metrics.ts';
import type { Arrival, IntakeOutcome } from './take-event.ts';

export interface DefinitionUpdateDeps {
  log: Logger;
  metrics: Metrics;
  /** Absent where nothing watches the definitions: the update is ignored. */
  definitions?: Pick<DefinitionWatch, 'definitionUpdated'>;
}

/**
 * An IM says an approval definition changed (Lark: `approval.approval.updated_v4`): the pipelines naming it are
 * checked again by a job, shortly, on any replica; nothing is read from the IM before answering. A definition no
 * live pipeline names is ignored and counted. `unavailable`: the job could not be committed, the IM must retry.
 */
export async function takeDefinitionUpdate(deps: DefinitionUpdateDeps, update: { provider: 'lark'; eventId: string; definitionCode: string; eventType: string }, arrival: Arrival): Promise<IntakeOutcome> {
  const { log, metrics, definitions } = deps;
  let pipelines: string[];
  try {
    pipelines = definitions ? await definitions.definitionUpdated(update.provider, update.definitionCode, update.eventId) : [];
  } catch (e) {
    metrics.eventsRefused.inc({ provider: update.provider, reason: 'database_unavailable' });
    log.error({ err: (e as Error).message, event_id: update.eventId, ...arrival.fields }, `could not schedule the check of an updated definition; the IM will retry`);
    return { kind: 'unavailable', error: e };
  }
  if (pipelines.length === 0) {
    metrics.eventsIgnored.inc({ provider: update.provider, reason: 'unknown_definition' });
    log.debug({ event_id: update.eventId, definition_code: update.definitionCode, ...arrival.fields }, `${arrival.label}: a definition no live pipeline names was updated`);
    return { kind: 'ignored' };
  }
  metrics.eventsReceived.inc({ provider: update.provider, type: update.eventType });
  log.info({ event_id: update.eventId, definition_code: update.definitionCode, pipelines, ...arrival.fields }, `${arrival.label}: approval definition ${update.definitionCode} was updated; checking ${pipelines.join(', ')} against it again`);
  return { kind: 'stored' };
}
