import type { Pool, PoolClient } from 'pg';
import type { JobSpec } from './add-job.ts';

/** A job committed as a row of `pending_effects`, to be run by the process that claimed it. */
export interface PendingEffect<J extends JobSpec = JobSpec> {
  id: string;
  job: J;
}

/** Records effects to be run at once by `claimer`, inside the caller's transaction. */
export async function insertPendingEffects<J extends JobSpec>(db: Pool | PoolClient, claimer: string, jobs: readonly J[]): Promise<PendingEffect<J>[]> {
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
