import assert from 'node:assert/strict';
import { readdir } from 'node:fs/promises';
import { test } from 'node:test';
import { runner } from 'node-pg-migrate';
import { finalStates } from '../engine/ticket.ts';
import { createLogger } from '../log.ts';
import { testDatabase } from '../testing/database.ts';
import { createPool, migrate, migrationsDir } from './database.ts';

const quiet = { info: () => undefined, warn: () => undefined, error: () => undefined, debug: () => undefined };
const steps = (url: string, direction: 'up' | 'down', count: number) => runner({ databaseUrl: url, dir: migrationsDir, direction, count, migrationsTable: 'ticketflow_migrations', singleTransaction: true, log: () => undefined, logger: quiet });

test('tickets an operator rejected before rejected_by_operator existed move to it (and back down); the open-tickets index lists every final state', async () => {
  const db = await testDatabase();
  const pool = createPool(db.url, 2);
  try {
    await steps(db.url, 'up', 10);
    await pool.query(`INSERT INTO pipeline_versions (name, version, content_hash, source, file, provider, definition_code) VALUES ('p', 1, 'h', '', 'p.yaml', 'lark', 'D')`);
    const ticket = (id: string, state: string, results: object) =>
      pool.query(`INSERT INTO tickets (id, pipeline_name, pipeline_version, provider, definition_code, instance_code, state, data) VALUES ($1, 'p', 1, 'lark', 'D', $1, $2, $3)`, [id, state, { applicant: { user_id: 'a' }, tasks: {}, results }]);
    const audit = (id: string, event: string, to: string) => pool.query(`INSERT INTO ticket_audit (ticket_id, actor, event, from_state, to_state) VALUES ($1, 'x', $2, 'needs_operator', $3)`, [id, event, to]);
    await ticket('tk_op_check', 'rejected_by_check', { check: { result: false, error: 'no' } });
    await audit('tk_op_check', 'operator_reject', 'rejected_by_check');
    await ticket('tk_op_exec', 'execute_failed', { check: { result: true }, execute: { result: false, error: 'no' } });
    await audit('tk_op_exec', 'operator_reject', 'execute_failed');
    await ticket('tk_business', 'rejected_by_check', { check: { result: false, error: 'already has it' } });
    await audit('tk_business', 'business_result', 'rejected_by_check');

    await migrate(db.url, createLogger('silent'));
    const states = async () => Object.fromEntries((await pool.query('SELECT id, state FROM tickets ORDER BY id')).rows.map((r) => [r.id, r.state]));
    const audited = async () => (await pool.query('SELECT ticket_id, to_state FROM ticket_audit ORDER BY id')).rows.map((r) => `${r.ticket_id}:${r.to_state}`);
    assert.deepEqual(await states(), { tk_business: 'rejected_by_check', tk_op_check: 'rejected_by_operator', tk_op_exec: 'rejected_by_operator' });
    assert.deepEqual(await audited(), ['tk_op_check:rejected_by_operator', 'tk_op_exec:rejected_by_operator', 'tk_business:rejected_by_check']);
    const { rows } = await pool.query(`SELECT indexdef FROM pg_indexes WHERE indexname = 'tickets_open'`);
    const listed = [...(rows[0].indexdef as string).matchAll(/'(\w+)'::text/g)].map((m) => m[1]).sort();
    assert.deepEqual(listed, [...finalStates].sort(), 'the partial index of open tickets excludes exactly the final states');

    // Down through this migration, and any later ones.
    const fromThisOne = (await readdir(migrationsDir)).filter((f) => f.endsWith('.sql') && f >= '1700000010000_').length;
    await steps(db.url, 'down', fromThisOne);
    assert.deepEqual(await states(), { tk_business: 'rejected_by_check', tk_op_check: 'rejected_by_check', tk_op_exec: 'execute_failed' });
    assert.deepEqual(await audited(), ['tk_op_check:rejected_by_check', 'tk_op_exec:execute_failed', 'tk_business:rejected_by_check']);
  } finally {
    await pool.end();
    await db.close();
  }
});
