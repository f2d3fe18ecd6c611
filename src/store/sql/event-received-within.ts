import type { Pool, PoolClient } from 'pg';

/** Whether the event was received less than `seconds` ago. */
export async function eventReceivedWithin(db: Pool | PoolClient, provider: string, eventId: string, seconds: number): Promise<boolean> {
  const { rows } = await db.query<{ recent: boolean }>('SELECT received_at > now() - make_interval(secs => $3) AS recent FROM inbound_events WHERE provider = $1 AND event_id = $2', [provider, eventId, seconds]);
  return rows[0]?.recent === true;
}
