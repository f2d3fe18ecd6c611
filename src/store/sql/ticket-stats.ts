import type { Pool } from 'pg';

/** Tickets by state, and the failures of the last 24 hours (for the dashboard). */
export async function ticketStats(pool: Pool): Promise<{ byState: Record<string, number>; failures24h: Record<string, number> }> {
  const [states, failures] = await Promise.all([
    pool.query<{ state: string; n: number }>('SELECT state, count(*)::int AS n FROM tickets GROUP BY state'),
    pool.query<{ to_state: string; n: number }>(
      `SELECT to_state, count(*)::int AS n FROM ticket_audit WHERE at > now() - interval '24 hours' AND to_state IN ('rejected_by_check', 'execute_failed', 'needs_operator') AND from_state IS DISTINCT FROM to_state GROUP BY to_state`,
    ),
  ]);
  return { byState: Object.fromEntries(states.rows.map((r) => [r.state, r.n])), failures24h: Object.fromEntries(failures.rows.map((r) => [r.to_state, r.n])) };
}
