import type { Pool, PoolClient } from 'pg';
import type { InboundEvent } from '../../providers/lark/callback.ts';
import { eventColumns } from './insert-events.ts';

/**
 * Stores a batch of events and adds, for each new one, a `process_events` job to its instance's queue: one
 * statement, so both commit together and a redelivered event adds no job. Each job processes every unprocessed
 * event of the instance in order, so the later ones often find nothing left to do. (No job_key coalescing:
 * graphile-worker 0.16 drops a keyed add_job that races with a worker locking the existing job.)
 */
export async function insertEventsWithJobs(db: Pool | PoolClient, events: readonly InboundEvent[]): Promise<Set<string>> {
  const { rows } = await db.query<{ provider: string; event_id: string }>(
    `WITH inserted AS (
       INSERT INTO inbound_events (provider, event_id, event_type, definition_code, instance_code, payload)
       SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::jsonb[])
       ON CONFLICT (provider, event_id) DO NOTHING
       RETURNING provider, event_id, instance_code, seq)
     SELECT provider, event_id,
            graphile_worker.add_job('process_events', json_build_object('provider', provider, 'instance_code', coalesce(instance_code, event_id)),
                                    queue_name => provider || ':' || coalesce(instance_code, event_id)) AS job
     FROM inserted ORDER BY seq`,
    eventColumns(events),
  );
  return new Set(rows.map((r) => `${r.provider}:${r.event_id}`));
}
