import type { Pool } from 'pg';

/** The states the dashboard counts as failures, written out as the partial index `ticket_audit_recent` lists them. */
const FAILURES = "'rejected_by_check', 'execute_failed', 'needs_operator'";

/**
 * Tickets by state, and the tickets now in a failure state that entered it at `since` or later (24 hours ago by
 * default): the ticket list filtered by that state and `entered_since` lists exactly these.
 */
export async function ticketStats(pool: Pool, since: Date = new Date(Date.now() - 86_400_000)): Promise<{ byState: Record<string, number>; failures24h: Record<string, number>; failuresSince: string }> {
  const [states, failures] = await Promise.all([
    pool.query<{ state: string; n: number }>('SELECT state, count(*)::int AS n FROM tickets GROUP BY state'),
    pool.query<{ state: string; n: number }>(
      `SELECT t.state, count(DISTINCT t.id)::int AS n
       FROM ticket_audit a JOIN tickets t ON t.id = a.ticket_id AND t.state = a.to_state
       WHERE a.at >= $1 AND a.to_state IN (${FAILURES}) AND a.from_state IS DISTINCT FROM a.to_state
       GROUP BY t.state`,
      [since.toISOString()],
    ),
  ]);
  return { byState: Object.fromEntries(states.rows.map((r) => [r.state, r.n])), failures24h: Object.fromEntries(failures.rows.map((r) => [r.state, r.n])), failuresSince: since.toISOString() };
}
