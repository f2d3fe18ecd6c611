import assert from 'node:assert/strict';
import { installJobSchema } from '../store/job-schema.ts';
import { after, before, test } from 'node:test';
import { createLogger } from '../log.ts';
import { testDatabase, type TestDatabase } from '../testing/database.ts';
import { readdir } from 'node:fs/promises';
import { createPool, databaseHealthy, migrate, migrationsDir } from './database.ts';

let db: TestDatabase;
before(async () => {
  db = await testDatabase();
});
after(() => db.close());

test('two replicas migrating the same empty database at once both succeed, and the schema exists once (ours and the job queue\'s)', async () => {
  const pool = createPool(db.url, 2);
  try {
    assert.equal(await databaseHealthy(pool), false, 'not healthy before migrations');
    await Promise.all([migrate(db.url, createLogger('silent')), migrate(db.url, createLogger('silent'))]);
    const { rows } = await pool.query("SELECT name FROM ticketflow_migrations ORDER BY name");
    const files = (await readdir(migrationsDir)).filter((f) => f.endsWith('.sql')).map((f) => f.replace(/\.sql$/, '')).sort();
    assert.ok(files.length >= 3);
    assert.deepEqual(rows.map((r) => r.name), files);
    assert.equal(await databaseHealthy(pool), true);
    await migrate(db.url, createLogger('silent')); // and again later: nothing to do
    const other = createPool(db.url, 2);
    try {
      await Promise.all([installJobSchema(pool), installJobSchema(other)]);
    } finally {
      await other.end();
    }
    const { rows: schemas } = await pool.query("SELECT count(*)::int AS n FROM pg_namespace WHERE nspname = 'graphile_worker'");
    assert.equal(schemas[0].n, 1, 'the job schema too');
    const version = await pool.query<{ server_version_num: string }>('SHOW server_version_num');
    assert.ok(Number(version.rows[0]!.server_version_num) >= 150000, 'PostgreSQL 15 or newer');
  } finally {
    await pool.end();
  }
});
