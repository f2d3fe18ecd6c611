import type { Pool, PoolClient } from 'pg';
import { finalStates } from '../../engine/ticket.ts';

/** Written out in the statement so that PostgreSQL matches it with the predicate of the partial index `tickets_open`. */
const FINAL = [...finalStates].map((s) => `'${s}'`).join(', ');

export interface ReconcilePolicy {
  /** The first re-read, this long after the ticket last changed. */
  afterMs: number;
  /** The longest wait between re-reads. */
  maxMs: number;
}

/**
 * Claims the open tickets whose instance is due for a re-read: the wait doubles with each re-read that found
 * nothing new (`reconcile_streak`), from `afterMs` up to `maxMs`, and starts over once the ticket changed since its
 * last re-read or an event of it arrived. `now` is the database clock unless given (the benchmark's simulated clock).
 */
export async function dueReconciles(db: Pool | PoolClient, policy: ReconcilePolicy, limit: number, now?: Date): Promise<Array<{ id: string }>> {
  const { rows } = await db.query(
    `WITH due AS (
       SELECT id, CASE WHEN reconciled_at IS NULL OR updated_at >= reconciled_at THEN 0 ELSE reconcile_streak END AS streak
       FROM tickets
       WHERE state NOT IN (${FINAL})
         AND state NOT IN ('awaiting_check_callback', 'awaiting_execute_callback', 'needs_operator')
         AND GREATEST(updated_at, COALESCE(reconciled_at, updated_at))
             + make_interval(secs => LEAST($3::float8, $2::float8 * power(2, CASE WHEN reconciled_at IS NULL OR updated_at >= reconciled_at THEN 0 ELSE reconcile_streak END)) / 1000)
             <= COALESCE($1::timestamptz, now())
       ORDER BY updated_at
       LIMIT $4
       FOR UPDATE SKIP LOCKED)
     UPDATE tickets t SET reconciled_at = COALESCE($1::timestamptz, now()), reconcile_streak = LEAST(due.streak + 1, 40)
     FROM due WHERE t.id = due.id
     RETURNING t.id`,
    [now ?? null, policy.afterMs, policy.maxMs, limit],
  );
  return rows;
}
