import type { Pool, PoolClient } from 'pg';
import { addJob, type JobSpec } from '../store/sql/add-job.ts';
import { insertPendingEffects, type PendingEffect } from '../store/sql/pending-effects.ts';
import type { LocalDispatch } from './local-dispatch.ts';

const dispatchers = new WeakMap<Pool, LocalDispatch>();
const afterCommit = new WeakMap<PoolClient, { dispatch: LocalDispatch; effects: PendingEffect[] }>();

/** Effects committed through `inTransaction` on this pool are run at once by `dispatch` after the commit. */
export function attachDispatch(pool: Pool, dispatch: LocalDispatch): void {
  dispatchers.set(pool, dispatch);
}

export function dispatchFor(pool: Pool): LocalDispatch | undefined {
  return dispatchers.get(pool);
}

/** Runs `fn` in a transaction on one pooled client; rolls back and discards the client on error. */
export async function inTransaction<T>(pool: Pool, fn: (client: PoolClient) => Promise<T>): Promise<T> {
  const client = await pool.connect();
  const dispatch = dispatchers.get(pool);
  const pending = dispatch && { dispatch, effects: [] as PendingEffect[] };
  if (pending) afterCommit.set(client, pending);
  let failed: Error | undefined;
  try {
    await client.query('BEGIN');
    const result = await fn(client);
    await client.query('COMMIT');
    if (pending?.effects.length) pending.dispatch.run(pending.effects);
    return result;
  } catch (e) {
    failed = e as Error;
    await client.query('ROLLBACK').catch(() => undefined);
    throw e;
  } finally {
    afterCommit.delete(client);
    client.release(failed);
  }
}

/**
 * Commits a job with the caller's transaction: as an effect this process runs right after the commit when the
 * transaction came from `inTransaction` on a pool with a dispatcher, as a queue job otherwise (or when delayed).
 */
export async function scheduleJob(client: PoolClient, job: JobSpec): Promise<void> {
  const pending = afterCommit.get(client);
  if (pending?.dispatch.accepts(job)) pending.effects.push(...(await insertPendingEffects(client, pending.dispatch.id, [job])));
  else await addJob(client, job);
}
