import type { Pool } from 'pg';

/**
 * Releases the queue jobs locked by workers that have not beaten for `deadAfterS` (graphile-worker itself waits
 * 4 hours), and forgets those workers. Returns their ids.
 */
export async function releaseDeadWorkers(pool: Pool, deadAfterS: number): Promise<string[]> {
  const { rows } = await pool.query<{ locked_by: string }>(
    `SELECT DISTINCT locked_by FROM graphile_worker.jobs j
     WHERE locked_by IS NOT NULL AND locked_at < now() - make_interval(secs => $1)
       AND NOT EXISTS (SELECT 1 FROM worker_heartbeats h WHERE h.worker_id = j.locked_by AND h.beat_at > now() - make_interval(secs => $1))`,
    [deadAfterS],
  );
  const dead = rows.map((r) => r.locked_by);
  if (dead.length === 0) return dead;
  await pool.query('SELECT graphile_worker.force_unlock_workers($1::text[])', [dead]);
  await pool.query('DELETE FROM worker_heartbeats WHERE worker_id = ANY($1)', [dead]);
  return dead;
}
