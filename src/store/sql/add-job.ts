import type { Pool, PoolClient } from 'pg';

export interface JobSpec {
  task: string;
  payload: object;
  runAt?: Date;
  /** A job with the same key that has not started is replaced rather than added again. */
  key?: string;
  maxAttempts?: number;
  /** With `key`: `preserve_run_at` keeps the waiting job's run time (a debounce that a stream of requests cannot postpone for ever). */
  keyMode?: 'replace' | 'preserve_run_at';
}

/**
 * Adds a graphile-worker job inside the caller's transaction, so it commits (or not) with the state change.
 *
 * A keyed add is made again when graphile-worker dropped it: in 0.16 `add_jobs` first unkeys the locked (running)
 * jobs with the key, then inserts `ON CONFLICT (key) DO UPDATE … WHERE locked_at IS NULL`, so a worker locking the
 * waiting job between the two leaves the insert with nothing to update and no row (the add returns a null job).
 * The next statement sees that job locked, unkeys it and inserts: a keyed add is never lost.
 */
export async function addJob(db: Pool | PoolClient, job: JobSpec): Promise<void> {
  for (let tries = 0; ; tries++) {
    const { rows } = await db.query<{ id: string | null }>(
      `SELECT (graphile_worker.add_job($1::text, $2::json, run_at => $3::timestamptz, job_key => $4::text, max_attempts => $5::int, job_key_mode => $6::text)).id`,
      [job.task, JSON.stringify(job.payload), job.runAt?.toISOString() ?? null, job.key ?? null, job.maxAttempts ?? 25, job.keyMode ?? 'replace'],
    );
    if (rows[0]?.id != null || job.key === undefined || tries >= 2) return;
  }
}
