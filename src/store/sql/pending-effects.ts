import type { Pool, PoolClient } from 'pg';
import type { JobSpec } from './add-job.ts';

export interface PendingEffect {
  id: string;
  job: JobSpec;
}

/** Records effects to be run at once by `claimer`, inside the caller's transaction. */
export async function insertPendingEffects(db: Pool | PoolClient, claimer: string, jobs: readonly JobSpec[]): Promise<PendingEffect[]> {
  if (jobs.length === 0) return [];
  const { rows } = await db.query<{ id: string }>({
    name: 'insert-pending-effects',
    text: `INSERT INTO pending_effects (task, payload, job_key, max_attempts, claimed_by)
     SELECT * FROM unnest($1::text[], $2::jsonb[], $3::text[], $4::int[], array_fill($5::text, array[cardinality($1::text[])]))
     RETURNING id`,
    values: [jobs.map((j) => j.task), jobs.map((j) => JSON.stringify(j.payload)), jobs.map((j) => j.key ?? null), jobs.map((j) => j.maxAttempts ?? 25), claimer],
  });
  return rows.map((r, i) => ({ id: r.id, job: jobs[i]! }));
}

/** An effect that ran to the end. */
export async function deletePendingEffects(db: Pool | PoolClient, ids: readonly string[]): Promise<void> {
  await db.query({
    name: 'delete-pending-effects',
    text: 'DELETE FROM pending_effects WHERE id = ANY($1::bigint[])',
    values: [ids],
  });
}

/** Moves effects into the durable job queue (one statement: each is either still pending or a job, never both). */
export async function handOverPendingEffects(db: Pool | PoolClient, ids: readonly string[], delayMs: number): Promise<number> {
  const { rowCount } = await db.query(
    `WITH moved AS (DELETE FROM pending_effects WHERE id = ANY($1::bigint[]) RETURNING *)
     SELECT graphile_worker.add_job(task, payload::json, run_at => now() + make_interval(secs => $2::float / 1000), job_key => job_key, max_attempts => max_attempts) FROM moved`,
    [ids, delayMs],
  );
  return rowCount ?? 0;
}

/** Hands over the effects of processes that stopped beating (they died before running them). */
export async function handOverOrphanedEffects(db: Pool | PoolClient, deadAfterS: number): Promise<number> {
  const { rows } = await db.query<{ id: string }>(
    `SELECT id FROM pending_effects p
     WHERE created_at < now() - make_interval(secs => $1)
       AND NOT EXISTS (SELECT 1 FROM worker_heartbeats h WHERE h.worker_id = p.claimed_by AND h.beat_at > now() - make_interval(secs => $1))
     LIMIT 1000`,
    [deadAfterS],
  );
  return rows.length ? handOverPendingEffects(db, rows.map((r) => r.id), 0) : 0;
}
