import type { Pool, PoolClient } from 'pg';

/**
 * Puts the dead deliveries of one ticket for one destination back in its queue, due now and with their attempts
 * counted afresh; they go out in order, before the events held behind them. Returns how many there were.
 */
export async function redeliverEvents(db: Pool | PoolClient, ticketId: string, destination: string): Promise<number> {
  const { rowCount } = await db.query(
    `UPDATE event_deliveries SET status = 'pending', attempts = 0, first_attempt_at = NULL, next_attempt_at = now(), updated_at = now()
     WHERE ticket_id = $1 AND destination = $2 AND status = 'dead'`,
    [ticketId, destination],
  );
  return rowCount ?? 0;
}
