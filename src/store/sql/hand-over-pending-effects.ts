import type { Pool, PoolClient } from 'pg';

/** Moves effects into the durable job queue (one statement: each is either still pending or a job, never both). */
export async function handOverPendingEffects(db: Pool | PoolClient, ids: readonly string[], delayMs: number): Promise<number> {
  const { rowCount } = await db.query(
    `WITH moved AS (DELETE FROM pending_effects WHERE id = ANY($1::bigint[]) RETURNING *)
     SELECT graphile_worker.add_job(task, payload::json, run_at => now() + make_interval(secs => $2::float / 1000), job_key => job_key, max_attempts => max_attempts) FROM moved`,
    [ids, delayMs],
  );
  return rowCount ?? 0;
}
