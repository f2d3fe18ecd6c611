import type { Pool, PoolClient } from 'pg';
import type { InboundEvent } from '../../intake/inbound-event.ts';

/** Inserts a batch of events in one statement; returns the ids that were new (the rest were already stored). */
export async function insertEvents(client: Pool | PoolClient, events: readonly InboundEvent[]): Promise<Set<string>> {
  const { rows } = await client.query<{ provider: string; event_id: string }>(
    `INSERT INTO inbound_events (provider, event_id, event_type, definition_code, instance_code, payload)
     SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::jsonb[])
     ON CONFLICT (provider, event_id) DO NOTHING
     RETURNING provider, event_id`,
    eventColumns(events),
  );
  return new Set(rows.map((r) => `${r.provider}:${r.event_id}`));
}

/** The six column arrays that `unnest` turns back into rows. */
export function eventColumns(events: readonly InboundEvent[]): unknown[] {
  return [
    events.map((e) => e.provider),
    events.map((e) => e.eventId),
    events.map((e) => e.eventType),
    events.map((e) => e.definitionCode ?? null),
    events.map((e) => e.instanceCode ?? null),
    events.map((e) => e.payloadText ?? JSON.stringify(e.payload)),
  ];
}
