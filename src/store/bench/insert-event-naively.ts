import type { Pool } from 'pg';
import type { InboundEvent } from '../../intake/inbound-event.ts';

/** The intake benchmark's baseline: one event, one transaction of its own, no batching. */
export async function insertEventNaively(pool: Pool, e: InboundEvent): Promise<void> {
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    await client.query('INSERT INTO inbound_events (provider, event_id, event_type, definition_code, instance_code, payload) VALUES ($1,$2,$3,$4,$5,$6) ON CONFLICT DO NOTHING', [e.provider, e.eventId, e.eventType, e.definitionCode, e.instanceCode, JSON.stringify(e.payload)]);
    await client.query('COMMIT');
  } finally {
    client.release();
  }
}
