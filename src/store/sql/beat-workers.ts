import type { Pool } from 'pg';

/** The workers of this process are alive. */
export async function beatWorkers(pool: Pool, workerIds: readonly string[], process: string): Promise<void> {
  if (workerIds.length === 0) return;
  await pool.query(`INSERT INTO worker_heartbeats (worker_id, process) SELECT unnest($1::text[]), $2 ON CONFLICT (worker_id) DO UPDATE SET beat_at = now()`, [workerIds, process]);
}
