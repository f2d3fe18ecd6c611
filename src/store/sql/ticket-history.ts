import type { Pool } from 'pg';

export async function ticketHistory(pool: Pool, id: string) {
  const [audit, calls] = await Promise.all([
    pool.query('SELECT at, actor, event, from_state, to_state, detail FROM ticket_audit WHERE ticket_id = $1 ORDER BY id', [id]),
    pool.query('SELECT at, target, stage, action, attempt, request, response, status, error, latency_ms FROM call_attempts WHERE ticket_id = $1 ORDER BY id', [id]),
  ]);
  return { audit: audit.rows, calls: calls.rows };
}
