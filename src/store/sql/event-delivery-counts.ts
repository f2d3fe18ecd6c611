import type { Pool } from 'pg';

/** Undelivered events by destination: `pending` (waiting, retrying, or held behind a dead one) and `dead`. */
export async function eventDeliveryCounts(pool: Pool): Promise<Array<{ destination: string; status: 'pending' | 'dead'; n: number }>> {
  const { rows } = await pool.query(`SELECT destination, status, count(*)::int AS n FROM event_deliveries WHERE status <> 'delivered' GROUP BY destination, status`);
  return rows;
}
