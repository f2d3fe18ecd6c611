import { Logger as WorkerLogger, runMigrations } from 'graphile-worker';
import type { Pool } from 'pg';

/**
 * Installs or upgrades graphile-worker's schema. Its installer is not safe when two replicas start on an empty
 * database at once (both CREATE SCHEMA), so replicas take turns under an advisory lock.
 */
export async function installJobSchema(pool: Pool): Promise<void> {
  const lock = await pool.connect();
  let broken: Error | undefined;
  try {
    await lock.query("SELECT pg_advisory_lock(hashtextextended('ticketflow:graphile-worker-schema', 0))");
    await runMigrations({ pgPool: pool, logger: new WorkerLogger(() => () => undefined) });
    await lock.query("SELECT pg_advisory_unlock(hashtextextended('ticketflow:graphile-worker-schema', 0))");
  } catch (e) {
    broken = e as Error;
    throw e;
  } finally {
    lock.release(broken);
  }
}
