import type { Pool } from 'pg';

/** A ticket whose events stopped at a dead one for a destination (the console's dead letters). */
export interface DeadLetter {
  ticketId: string;
  destination: string;
  pipeline: { name: string; version: number };
  /** The first dead event: its number among the ticket's changes of state, and the change. */
  seq: number;
  from: string | null;
  to: string;
  attempts: number;
  lastStatus: number | null;
  lastError: string | null;
  /** When it was given up. */
  deadSince: Date;
  /** Dead events of the ticket for the destination (several after a redelivery that failed again). */
  dead: number;
  /** Later events held behind it, not tried until it is redelivered. */
  held: number;
}

/** Tickets with a dead event, the most recently given up first. */
export async function deadEventDeliveries(pool: Pool, limit: number): Promise<DeadLetter[]> {
  const { rows } = await pool.query(
    `WITH heads AS (
       SELECT DISTINCT ON (ticket_id, destination) ticket_id, destination, audit_id, attempts, last_status, last_error, updated_at
       FROM event_deliveries WHERE status = 'dead'
       ORDER BY ticket_id, destination, audit_id)
     SELECT h.ticket_id, h.destination, h.attempts, h.last_status, h.last_error, h.updated_at AS dead_since,
            t.pipeline_name, t.pipeline_version, a.from_state, a.to_state,
            (SELECT count(*) FROM ticket_audit s WHERE s.ticket_id = h.ticket_id AND s.id <= h.audit_id AND s.from_state IS DISTINCT FROM s.to_state)::int AS seq,
            (SELECT count(*) FROM event_deliveries x WHERE x.ticket_id = h.ticket_id AND x.destination = h.destination AND x.status = 'dead')::int AS dead,
            (SELECT count(*) FROM event_deliveries x WHERE x.ticket_id = h.ticket_id AND x.destination = h.destination AND x.status = 'pending')::int AS held
     FROM heads h JOIN tickets t ON t.id = h.ticket_id JOIN ticket_audit a ON a.id = h.audit_id
     ORDER BY h.updated_at DESC
     LIMIT $1`,
    [limit],
  );
  return rows.map((r) => ({
    ticketId: r.ticket_id,
    destination: r.destination,
    pipeline: { name: r.pipeline_name, version: r.pipeline_version },
    seq: r.seq,
    from: r.from_state,
    to: r.to_state,
    attempts: r.attempts,
    lastStatus: r.last_status,
    lastError: r.last_error,
    deadSince: r.dead_since,
    dead: r.dead,
    held: r.held,
  }));
}
