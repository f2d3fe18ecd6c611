import type { Pool } from 'pg';

/** Workers that stopped cleanly: nothing of theirs is to be handed over. */
export async function forgetWorkers(pool: Pool, workerIds: readonly string[]): Promise<void> {
  if (workerIds.length === 0) return;
  await pool.query('DELETE FROM worker_heartbeats WHERE worker_id = ANY($1)', [workerIds]);
}
