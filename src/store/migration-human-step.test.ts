import assert from 'node:assert/strict';
import { test } from 'node:test';
import { runner } from 'node-pg-migrate';
import { finalStates } from '../engine/ticket.ts';
import { testDatabase } from '../testing/database.ts';
import { createPool, migrationsDir } from './database.ts';

const quiet = { info: () => undefined, warn: () => undefined, error: () => undefined, debug: () => undefined };
const steps = (url: string, direction: 'up' | 'down', count: number) => runner({ databaseUrl: url, dir: migrationsDir, direction, count, migrationsTable: 'ticketflow_migrations', singleTransaction: true, log: () => undefined, logger: quiet });

test('1700000012000_human_step: escalated_at with its index, expired in the open-tickets index; down moves expired tickets to canceled', async () => {
  const db = await testDatabase();
  const pool = createPool(db.url, 2);
  try {
    // Up to and including this migration (the first thirteen), whatever comes after it.
    await steps(db.url, 'up', 13);
    const applied = (await pool.query(`SELECT name FROM ticketflow_migrations ORDER BY id`)).rows.map((r) => r.name as string);
    assert.equal(applied.at(-1), '1700000012000_human_step');
    await pool.query(`INSERT INTO pipeline_versions (name, version, content_hash, source, file, provider, definition_code) VALUES ('p', 1, 'h', '', 'p.yaml', 'lark', 'D')`);
    await pool.query(`INSERT INTO tickets (id, pipeline_name, pipeline_version, provider, definition_code, instance_code, state, data, escalated_at) VALUES ('tk_x', 'p', 1, 'lark', 'D', 'I', 'expired', '{}', now())`);
    await pool.query(`INSERT INTO ticket_audit (ticket_id, actor, event, from_state, to_state) VALUES ('tk_x', 'ticketflow', 'approval_expired', 'in_approval', 'expired')`);
    const index = async (name: string) => (await pool.query(`SELECT indexdef FROM pg_indexes WHERE indexname = $1`, [name])).rows[0]?.indexdef as string | undefined;
    const listed = [...(await index('tickets_open'))!.matchAll(/'(\w+)'::text/g)].map((m) => m[1]).sort();
    assert.deepEqual(listed, [...finalStates].sort(), 'the open-tickets index excludes exactly the final states, expired included');
    assert.match((await index('tickets_escalated'))!, /WHERE \(escalated_at IS NOT NULL\)/);

    await steps(db.url, 'down', 1);
    assert.equal((await pool.query(`SELECT state FROM tickets WHERE id = 'tk_x'`)).rows[0].state, 'canceled');
    assert.equal((await pool.query(`SELECT to_state FROM ticket_audit WHERE ticket_id = 'tk_x'`)).rows[0].to_state, 'canceled');
    assert.equal((await pool.query(`SELECT count(*)::int AS n FROM information_schema.columns WHERE table_name = 'tickets' AND column_name = 'escalated_at'`)).rows[0].n, 0);
    assert.equal(await index('tickets_escalated'), undefined);
    assert.doesNotMatch((await index('tickets_open'))!, /expired/);
  } finally {
    await pool.end();
    await db.close();
  }
});
