import type { Pool, PoolClient } from 'pg';
import type { InboundEvent } from '../../intake/inbound-event.ts';
import { eventColumns } from './insert-events.ts';

export interface StoredEvents {
  /** `provider:event_id` of the events that were new. */
  stored: Set<string>;
  /** One `process_events` effect per instance that got a new event, claimed by `claimer` (none without one). */
  effects: Array<{ id: string; provider: string; instanceCode: string }>;
}

/**
 * Stores a batch of events and, for each instance with a new one, a pending `process_events` effect: one
 * statement, so both commit together and a redelivered event adds nothing. The effect processes every
 * unprocessed event of its instance in order. Without a claimer (a replica that runs no effects) one job per
 * batch goes to the job queue instead, naming every instance (`add_job` costs half a millisecond each).
 */
export async function insertEventsWithEffects(db: Pool | PoolClient, events: readonly InboundEvent[], claimer: string | undefined): Promise<StoredEvents> {
  const { rows } = await db.query<{ key: string | null; id: string | null; payload: { provider: string; instance_code: string } | null }>({
    name: 'insert-events-with-effects',
    text: `WITH inserted AS (
       INSERT INTO inbound_events (provider, event_id, event_type, definition_code, instance_code, payload)
       SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::jsonb[])
       ON CONFLICT (provider, event_id) DO NOTHING
       RETURNING provider, event_id, coalesce(instance_code, event_id) AS instance),
     effects AS (
       INSERT INTO pending_effects (task, payload, claimed_by)
       SELECT 'process_events', jsonb_build_object('provider', provider, 'instance_code', instance), $7
       FROM (SELECT DISTINCT provider, instance FROM inserted) i
       WHERE $7::text IS NOT NULL
       RETURNING id, payload),
     queued AS (
       SELECT graphile_worker.add_job('process_events', json_build_object('provider', provider, 'instance_codes', json_agg(DISTINCT instance)))
       FROM inserted
       WHERE $7::text IS NULL
       GROUP BY provider)
     SELECT provider || ':' || event_id AS key, NULL::bigint AS id, NULL::jsonb AS payload FROM inserted
     UNION ALL
     SELECT NULL, id, payload FROM effects
     UNION ALL
     SELECT NULL, NULL, NULL FROM (SELECT count(*) AS n FROM queued) q WHERE n < 0`,
    values: [...eventColumns(events), claimer ?? null],
  });
  const stored = new Set<string>();
  const effects: StoredEvents['effects'] = [];
  for (const r of rows) {
    if (r.key) stored.add(r.key);
    else if (r.id) effects.push({ id: String(r.id), provider: r.payload!.provider, instanceCode: r.payload!.instance_code });
  }
  return { stored, effects };
}
