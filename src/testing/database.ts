import type { Pool } from 'pg';
import { installJobSchema } from '../store/job-schema.ts';
import { createLogger } from '../log.ts';
import { createPool, migrate } from '../store/database.ts';
import { insertPipelineVersion } from '../store/sql/insert-pipeline-version.ts';
import { scratchDatabase, type ScratchDatabase } from '../store/scratch-database.ts';

export type TestDatabase = ScratchDatabase;

/**
 * The PostgreSQL server on which tests create their databases: the one of DATABASE_URL when set, else the one that
 * `npm test` starts for the whole run (TICKETFLOW_TEST_PG_URL, see scripts/test.mjs); undefined when neither (a test
 * file run on its own with `node --test`): each database is then an embedded server of its own.
 */
export function testServerUrl(): string | undefined {
  return process.env.DATABASE_URL || process.env.TICKETFLOW_TEST_PG_URL || undefined;
}

/** A fresh, empty PostgreSQL database for one test file (never an imitation): see `scratchDatabase` and `testServerUrl`. */
export function testDatabase(): Promise<TestDatabase> {
  return scratchDatabase('tf_test', testServerUrl());
}

export interface MigratedTestDatabase extends TestDatabase {
  /** A pool on it; closed by `close`. */
  pool: Pool;
}

/** A fresh database with the project's schema and the job queue's, and a pool on it: how a store test starts. */
export async function migratedTestDatabase(poolSize = 4): Promise<MigratedTestDatabase> {
  const db = await testDatabase();
  await migrate(db.url, createLogger('silent'));
  const pool = createPool(db.url, poolSize);
  await installJobSchema(pool);
  return {
    url: db.url,
    pool,
    async close() {
      await pool.end();
      await db.close();
    },
  };
}

/** A migrated database holding one stored pipeline version, `p`@1 of Lark definition `D`, for tickets to point at. */
export async function ticketStoreTestDatabase(): Promise<MigratedTestDatabase> {
  const db = await migratedTestDatabase();
  await insertPipelineVersion(db.pool, { name: 'p', version: 1, contentHash: 'h', source: '', file: 'p.yaml', provider: 'lark', definitionCode: 'D' });
  return db;
}
