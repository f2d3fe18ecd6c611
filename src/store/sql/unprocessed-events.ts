import type { Pool, PoolClient } from 'pg';

/** The events of an instance not processed yet, in the order they were stored. */
export async function unprocessedEvents(db: Pool | PoolClient, provider: string, instanceCode: string): Promise<Array<{ eventId: string; payload: Record<string, unknown> }>> {
  const { rows } = await db.query<{ event_id: string; payload: Record<string, unknown> }>({
    name: 'unprocessed-events',
    // An event that names no instance is filed under its own id.
    text: `SELECT event_id, payload FROM inbound_events WHERE provider = $1 AND (instance_code = $2 OR (instance_code IS NULL AND event_id = $2)) AND processed_at IS NULL ORDER BY seq`,
    values: [provider, instanceCode],
  });
  return rows.map((r) => ({ eventId: r.event_id, payload: r.payload }));
}
