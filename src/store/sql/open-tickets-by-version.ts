import type { Pool } from 'pg';
import { finalStates } from '../../engine/ticket.ts';

/** Written out in the statement so that PostgreSQL matches it with the predicate of the partial index `tickets_open`. */
const FINAL = [...finalStates].map((s) => `'${s}'`).join(', ');

/** The tickets of a pipeline not yet in a final state, counted per version (versions without any are absent). */
export async function openTicketsByVersion(pool: Pool, name: string): Promise<Map<number, number>> {
  const { rows } = await pool.query<{ version: number; open: number }>(
    `SELECT pipeline_version AS version, count(*)::int AS open FROM tickets WHERE pipeline_name = $1 AND state NOT IN (${FINAL}) GROUP BY pipeline_version`,
    [name],
  );
  return new Map(rows.map((r) => [r.version, r.open]));
}
