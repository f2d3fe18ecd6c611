import type { Pool, PoolClient } from 'pg';

/** An IM event that has done all it will do. */
export async function markEventProcessed(db: Pool | PoolClient, provider: string, eventId: string): Promise<void> {
  await db.query({
    name: 'mark-event-processed',
    text: 'UPDATE inbound_events SET processed_at = now() WHERE provider = $1 AND event_id = $2',
    values: [provider, eventId],
  });
}
