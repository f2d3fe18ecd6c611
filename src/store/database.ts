import { fileURLToPath } from 'node:url';
import { runner } from 'node-pg-migrate';
import pg from 'pg';
import type { Logger } from '../log.ts';

export const migrationsDir = fileURLToPath(new URL('./migrations/', import.meta.url));

export function createPool(url: string, max = 20): pg.Pool {
  // TCP keep-alive: a connection held idle (the check listener) notices a peer that vanished.
  const pool = new pg.Pool({ connectionString: url, max, connectionTimeoutMillis: 5_000, idleTimeoutMillis: 30_000, keepAlive: true });
  // An idle client losing its connection must not crash the process; the next query reconnects.
  pool.on('error', () => undefined);
  return pool;
}

/**
 * Applies the migrations in src/store/migrations. node-pg-migrate holds an advisory lock while it runs; with
 * `wait`, a second replica starting at the same moment waits for the first and then finds nothing to do.
 */
export async function migrate(url: string, log: Logger): Promise<void> {
  await runner({
    databaseUrl: url,
    dir: migrationsDir,
    direction: 'up',
    migrationsTable: 'ticketflow_migrations',
    advisoryLockMode: 'wait',
    singleTransaction: true,
    checkOrder: true,
    logger: { info: (m: string) => log.debug(m), warn: (m: string) => log.warn(m), error: (m: string) => log.error(m), debug: () => undefined },
  });
}

/** True when the database answers and every migration is applied. */
export async function databaseHealthy(pool: pg.Pool): Promise<boolean> {
  try {
    await pool.query("SELECT 1 FROM ticketflow_migrations WHERE name = '1700000000000_init'");
    return true;
  } catch {
    return false;
  }
}
