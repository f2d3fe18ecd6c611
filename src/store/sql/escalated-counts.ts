import type { Pool } from 'pg';

/**
 * Tickets escalated and still waiting for their approvers (`in_approval`), per pipeline: the dashboard's count and
 * the `ticketflow_tickets_escalated` gauge, read from PostgreSQL so that every replica says the same.
 */
export async function escalatedCounts(pool: Pool): Promise<Record<string, number>> {
  const { rows } = await pool.query<{ pipeline_name: string; n: number }>(
    `SELECT pipeline_name, count(*)::int AS n FROM tickets WHERE escalated_at IS NOT NULL AND state = 'in_approval' GROUP BY pipeline_name`,
  );
  return Object.fromEntries(rows.map((r) => [r.pipeline_name, r.n]));
}
