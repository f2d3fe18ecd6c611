import assert from 'node:assert/strict';
import { test } from 'node:test';
import { testDatabase } from '../testing/database.ts';
import { createPool } from './database.ts';
import { withInstanceLock } from './instance-lock.ts';

test("the server ending the lock's connection while the work runs fails nothing else and ends no process; the connection is dropped", async () => {
  const db = await testDatabase();
  const pool = createPool(db.url, 4);
  try {
    const result = await withInstanceLock(pool, 'lark', 'I1', async () => {
      // pg_locks shows the whole server, which other test files share: only this test's database counts.
      const { rows } = await pool.query(`SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND granted AND database = (SELECT oid FROM pg_database WHERE datname = current_database())`);
      assert.equal(rows.length, 1, 'the lock is held, once');
      await pool.query('SELECT pg_terminate_backend($1)', [rows[0].pid]);
      // Time for the 'error' event of the killed connection, which had no listener before.
      await new Promise((resolve) => setTimeout(resolve, 200));
      return 'done';
    });
    assert.equal(result, 'done');
    const { rows } = await pool.query(`SELECT count(*)::int AS n FROM pg_locks WHERE locktype = 'advisory' AND database = (SELECT oid FROM pg_database WHERE datname = current_database())`);
    assert.equal(rows[0].n, 0, 'the lock died with its connection');
    assert.equal((await pool.query('SELECT 1 AS one')).rows[0].one, 1, 'the pool still serves');
  } finally {
    await pool.end();
    await db.close();
  }
});
