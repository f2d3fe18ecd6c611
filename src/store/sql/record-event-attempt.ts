import type { Pool, PoolClient } from 'pg';

/** One attempt to deliver an event, and what it leaves the delivery as. */
export interface EventAttempt {
  ticketId: string;
  destination: string;
  auditId: string;
  /** When the attempt went out (the database clock, read with the delivery). */
  startedAt: Date;
  outcome: 'delivered' | 'retry' | 'dead';
  /** With `retry`: how long until the next attempt. */
  delayMs?: number;
  status?: number;
  error?: string;
}

/**
 * Records an attempt on a delivery still pending: delivered, dead, or pending again after a wait (on the database
 * clock). Returns when the next attempt is due (`retry`), or undefined when the delivery was not pending any more.
 */
export async function recordEventAttempt(db: Pool | PoolClient, a: EventAttempt): Promise<{ nextAttemptAt: Date } | undefined> {
  const { rows } = await db.query({
    name: 'record-event-attempt',
    text: `UPDATE event_deliveries
           SET attempts = attempts + 1, first_attempt_at = coalesce(first_attempt_at, $4), last_status = $7, last_error = $8,
               status = CASE $5::text WHEN 'delivered' THEN 'delivered' WHEN 'dead' THEN 'dead' ELSE 'pending' END,
               delivered_at = CASE WHEN $5::text = 'delivered' THEN now() END,
               next_attempt_at = now() + make_interval(secs => $6::float / 1000),
               updated_at = now()
           WHERE ticket_id = $1 AND destination = $2 AND audit_id = $3 AND status = 'pending'
           RETURNING next_attempt_at`,
    values: [a.ticketId, a.destination, a.auditId, a.startedAt, a.outcome, a.delayMs ?? 0, a.status ?? null, a.error ?? null],
  });
  return rows[0] ? { nextAttemptAt: rows[0].next_attempt_at } : undefined;
}
