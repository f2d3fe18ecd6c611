import type { Pool } from 'pg';

export async function completedTickets(pool: Pool): Promise<number> {
  const { rows } = await pool.query("SELECT count(*)::int AS n FROM tickets WHERE state = 'completed'");
  return rows[0].n;
}

/** When the latest ticket changed: the start of the reconcile benchmark's simulated clock. */
export async function latestTicketUpdate(pool: Pool): Promise<Date> {
  const { rows } = await pool.query('SELECT max(updated_at) AS t FROM tickets');
  return rows[0].t;
}

/** What a stuck benchmark ticket looks like: its row, its events, the first jobs of the queue. */
export async function stuckTicketReport(pool: Pool, instanceCode: string): Promise<{ ticket: unknown; events: unknown[]; jobs: unknown[] }> {
  const t = await pool.query('SELECT id, state, stage, attempts, data FROM tickets WHERE instance_code = $1', [instanceCode]);
  const ev = await pool.query("SELECT event_id, event_type, processed_at IS NOT NULL AS done, payload->'event'->>'status' AS status FROM inbound_events WHERE instance_code = $1 ORDER BY seq", [instanceCode]);
  const jobs = await pool.query('SELECT task_identifier, key, run_at, attempts, last_error, locked_by FROM graphile_worker.jobs LIMIT 5');
  return { ticket: t.rows[0], events: ev.rows, jobs: jobs.rows };
}
